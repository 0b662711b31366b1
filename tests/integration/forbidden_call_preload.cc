// Loaded into pxe-pdhcp with LD_PRELOAD by least_privilege_test. On SIGUSR2
// the daemon makes a system call its filter forbids, as code injected into it
// would: it tries to start /bin/echo. Under the sandbox the kernel must end
// it with SIGSYS; with --no-sandbox echo runs and prints its line.
#include <signal.h>
#include <unistd.h>

namespace {

void StartAProgram(int) {
  char* const argv[] = {const_cast<char*>("/bin/echo"),
                        const_cast<char*>("forbidden-call-ran"), nullptr};
  execv(argv[0], argv);
}

__attribute__((constructor)) void InstallTrigger() {
  struct sigaction action = {};
  action.sa_handler = StartAProgram;
  sigaction(SIGUSR2, &action, nullptr);
}

}  // namespace
