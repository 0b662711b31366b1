#include "tools/log.h"

#include <syslog.h>

#include <cstdio>
#include <cstdlib>
#include <string>

namespace pxe::log {
namespace {

bool use_syslog = false;
bool journal_prefix = false;

void Write(int priority, std::string_view text) {
  const std::string line(text);
  if (use_syslog) {
    syslog(priority, "%s", line.c_str());
  } else if (journal_prefix) {
    std::fprintf(stderr, "<%d>%s\n", priority, line.c_str());
  } else {
    std::fprintf(stderr, "pxe-pdhcp: %s\n", line.c_str());
  }
}

}  // namespace

void Init(bool to_syslog) {
  use_syslog = to_syslog;
  // systemd sets JOURNAL_STREAM when stderr is connected to the journal.
  journal_prefix = std::getenv("JOURNAL_STREAM") != nullptr;
  if (use_syslog) openlog("pxe-pdhcp", LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

void Info(std::string_view text) { Write(LOG_INFO, text); }
void Warning(std::string_view text) { Write(LOG_WARNING, text); }
void Error(std::string_view text) { Write(LOG_ERR, text); }

}  // namespace pxe::log
