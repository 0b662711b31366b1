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
