// The committed inputs of one libFuzzer target, replayed as GoogleTests in
// every build (gcc's and the sanitizers' too), so that each input a fuzzer
// was given or found stays a test: every file of the target's seed corpus
// (PXE_FUZZ_CORPUS_DIR) and of its crash regressions
// (PXE_FUZZ_REGRESSIONS_DIR, which need not exist) goes through the target's
// own LLVMFuzzerTestOneInput(), compiled into this binary with its
// properties (fuzz_check.h).
//
// One test per file, named after it: PXE_FUZZER/Replay.Input/corpus_NAME or
// .../regression_NAME, with every character of NAME that is not a letter or
// a digit made '_'. Each input runs in a child process (a death test), since
// a violated property traps and a sanitizer report aborts: the failure then
// names the input and quotes what the child printed, and the other inputs
// still run. Like libFuzzer, the input is handed over in a heap block of
// exactly its size, so that AddressSanitizer sees any read past its end.
//
// The files are listed when the binary runs: an input added to a directory
// is a test without a rebuild. ctest runs the binary as one test per fuzzer
// (FUZZER_replay); its output names each input that failed.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <ostream>
#include <set>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "gtest/gtest.h"

#ifndef PXE_FUZZER
#error "PXE_FUZZER names the fuzz target, e.g. fuzz_frame"
#endif

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace pxe {
namespace {

namespace fs = std::filesystem;

struct Input {
  std::string name;  // the test's name
  fs::path path;
};

// Printed by gtest when a test fails: the file, not its bytes.
void PrintTo(const Input& input, std::ostream* os) { *os << input.path; }

std::string TestName(std::string_view kind, std::string_view file) {
  std::string name(kind);
  name += '_';
  for (const char c : file) {
    const bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                       (c >= '0' && c <= '9');
    name += alnum ? c : '_';
  }
  return name;
}

// The regular files of `dir` (none when it does not exist) except dot files
// and README.md, sorted by name.
std::vector<fs::path> ListFiles(const fs::path& dir) {
  std::set<fs::path> files;
  std::error_code error;
  for (fs::directory_iterator it(dir, error), end; !error && it != end;
       it.increment(error)) {
    const std::string file = it->path().filename().string();
    if (file.starts_with('.') || file == "README.md") continue;
    if (it->is_regular_file()) files.insert(it->path());
  }
  return {files.begin(), files.end()};
}

std::vector<Input> ListInputs() {
  std::vector<Input> inputs;
  std::set<std::string> names;
  const auto add = [&](std::string_view kind, const fs::path& dir) {
    for (const fs::path& path : ListFiles(dir)) {
      std::string name = TestName(kind, path.filename().string());
      // "a-b" and "a.b" both make "a_b": number the later ones.
      for (int n = 2; names.contains(name); ++n) {
        name =
            TestName(kind, path.filename().string()) + "_" + std::to_string(n);
      }
      names.insert(name);
      inputs.push_back({std::move(name), path});
    }
  };
  add("corpus", PXE_FUZZ_CORPUS_DIR);
  add("regression", PXE_FUZZ_REGRESSIONS_DIR);
  return inputs;
}

bool ReadFile(const fs::path& path, std::vector<uint8_t>* bytes) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  bytes->assign(std::istreambuf_iterator<char>(in),
                std::istreambuf_iterator<char>());
  return !in.bad();
}

// What libFuzzer does with an input: a copy in a heap block of its size.
int RunInput(const std::vector<uint8_t>& bytes) {
  const auto data = std::make_unique<uint8_t[]>(bytes.size());
  std::copy(bytes.begin(), bytes.end(), data.get());
  return LLVMFuzzerTestOneInput(data.get(), bytes.size());
}

class Replay : public testing::TestWithParam<Input> {};

TEST_P(Replay, Input) {
  std::vector<uint8_t> bytes;
  ASSERT_TRUE(ReadFile(GetParam().path, &bytes)) << GetParam().path;
  // The child exits 0 only when the target returned 0 (libFuzzer's "keep
  // going") without a trap, an abort or a sanitizer report on the way.
  EXPECT_EXIT(std::exit(RunInput(bytes) == 0 ? 0 : 3),
              testing::ExitedWithCode(0), "")
      << GetParam().path << " (" << bytes.size() << " bytes)";
}

std::string InputName(const testing::TestParamInfo<Input>& test) {
  return test.param.name;
}

// TEST() and INSTANTIATE_TEST_SUITE_P() paste their names: PXE_FUZZER is
// expanded first, through these.
#define PXE_REPLAY_CORPUS_TEST(suite) TEST(suite, CorpusIsNotEmpty)
#define PXE_REPLAY_INSTANTIATE(prefix)                                      \
  INSTANTIATE_TEST_SUITE_P(prefix, Replay, testing::ValuesIn(ListInputs()), \
                           InputName)
PXE_REPLAY_INSTANTIATE(PXE_FUZZER);

// A corpus that moved or emptied would otherwise replay nothing, and pass.
PXE_REPLAY_CORPUS_TEST(PXE_FUZZER) {
  EXPECT_FALSE(ListFiles(PXE_FUZZ_CORPUS_DIR).empty()) << PXE_FUZZ_CORPUS_DIR;
}

}  // namespace
}  // namespace pxe
