// Test helpers for tests that run a built program: run a shell command and
// collect what it prints, and a temporary file that is removed afterwards.
#ifndef PXE_TESTS_TESTING_COMMAND_H_
#define PXE_TESTS_TESTING_COMMAND_H_

#include <string>

namespace pxe::testing {

struct CommandResult {
  int exit_code = -1;  // -1: did not run, or killed by a signal
  std::string output;  // stdout and stderr, interleaved
};

// Runs `command` with /bin/sh, stderr joined to stdout.
CommandResult RunCommand(const std::string& command);

// `text` in a new file under /tmp, removed when this goes out of scope.
class TempFile {
 public:
  explicit TempFile(const std::string& text);
  ~TempFile();
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;

  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace pxe::testing

#endif  // PXE_TESTS_TESTING_COMMAND_H_
