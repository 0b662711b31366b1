// A small walker over argv for the project's command-line tools: options as
// "-x VALUE", "-xVALUE", "--name VALUE" or "--name=VALUE". Parsing stays in
// each tool; this only hands out the words.
#ifndef PXE_TOOLS_ARG_READER_H_
#define PXE_TOOLS_ARG_READER_H_

#include <cstddef>
#include <optional>
#include <span>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "engine/status_macros.h"

namespace pxe {

// One option word split into its name and an attached value: "--name=v"
// gives ("name", "v"), "-xv" gives ("x", "v"), "--name" and "-x" no value.
struct OptionWord {
  std::string_view name;
  std::optional<std::string_view> inline_value;
};

inline OptionWord SplitOptionWord(std::string_view arg) {
  OptionWord word;
  if (arg.starts_with("--")) {
    word.name = arg.substr(2);
    if (size_t eq = word.name.find('='); eq != std::string_view::npos) {
      word.inline_value = word.name.substr(eq + 1);
      word.name = word.name.substr(0, eq);
    }
  } else {
    word.name = arg.substr(1, 1);
    if (arg.size() > 2) word.inline_value = arg.substr(2);
  }
  return word;
}

class ArgReader {
 public:
  explicit ArgReader(std::span<const char* const> args) : args_(args) {}

  bool Done() const { return index_ >= args_.size(); }
  std::string_view Next() { return args_[index_++]; }
  // The value of `flag`: `inline_value` if the word had one ("--x=1"),
  // else the next word.
  absl::StatusOr<std::string_view> Value(
      std::string_view flag, std::optional<std::string_view> inline_value) {
    if (inline_value) return *inline_value;
    if (Done()) {
      return absl::InvalidArgumentError(
          absl::StrCat("option ", Sv(flag), " needs a value"));
    }
    return Next();
  }

 private:
  std::span<const char* const> args_;
  size_t index_ = 0;
};

}  // namespace pxe

#endif  // PXE_TOOLS_ARG_READER_H_
