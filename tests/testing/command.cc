#include "tests/testing/command.h"

#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>

namespace pxe::testing {

CommandResult RunCommand(const std::string& command) {
  CommandResult run;
  FILE* p = popen((command + " 2>&1").c_str(), "r");
  if (p == nullptr) return run;
  char buffer[4096];
  size_t n = 0;
  while ((n = fread(buffer, 1, sizeof(buffer), p)) > 0) {
    run.output.append(buffer, n);
  }
  const int status = pclose(p);
  run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return run;
}

TempFile::TempFile(const std::string& text) {
  char name[] = "/tmp/pxe-pdhcp-test.XXXXXX";
  const int fd = mkstemp(name);
  if (fd >= 0) close(fd);
  path_ = name;
  std::ofstream(path_) << text;
}

TempFile::~TempFile() { std::remove(path_.c_str()); }

}  // namespace pxe::testing
