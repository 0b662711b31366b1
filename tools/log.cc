#include "tools/log.h"

#include <syslog.h>
#include <time.h>

#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <map>
#include <mutex>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "engine/status_macros.h"

namespace pxe::log {
namespace {

constexpr uint64_t kNoticeWindowNs = 60'000'000'000;

struct State {
  std::mutex mutex;
  bool use_syslog = false;
  bool journal_prefix = false;
  Level level = Level::kInfo;
  Format format = Format::kText;
  std::vector<std::string>* capture = nullptr;
  // Notice topics seen in the last minute: when their minute started, and
  // how many were suppressed since.
  struct Topic {
    uint64_t since_ns = 0;
    uint64_t suppressed = 0;
  };
  std::map<std::string, Topic, std::less<>> topics;
};

State& state() {
  static State* s = new State();
  return *s;
}

std::string_view LevelName(int priority) {
  switch (priority) {
    case LOG_ERR:
      return "error";
    case LOG_WARNING:
      return "warning";
    case LOG_DEBUG:
      return "debug";
    default:
      return "info";
  }
}

// Now as RFC 3339 UTC with milliseconds: "2026-12-08T00:31:02.125Z".
std::string Now() {
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  tm utc;
  gmtime_r(&ts.tv_sec, &utc);
  char text[32];
  std::strftime(text, sizeof(text), "%Y-%m-%dT%H:%M:%S", &utc);
  return absl::StrFormat("%s.%03dZ", text, ts.tv_nsec / 1'000'000);
}

void AppendJsonString(std::string* out, std::string_view text) {
  out->push_back('"');
  for (char c : text) {
    switch (c) {
      case '"':
        *out += "\\\"";
        break;
      case '\\':
        *out += "\\\\";
        break;
      case '\n':
        *out += "\\n";
        break;
      case '\t':
        *out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          absl::StrAppend(out, absl::StrFormat("\\u%04x", c));
        } else {
          out->push_back(c);
        }
    }
  }
  out->push_back('"');
}

bool NeedsQuotes(std::string_view value) {
  if (value.empty()) return true;
  for (char c : value) {
    if (c == ' ' || c == '"' || c == '=' || c == '\\' ||
        static_cast<unsigned char>(c) < 0x20) {
      return true;
    }
  }
  return false;
}

void AppendLogfmtValue(std::string* out, std::string_view value) {
  if (!NeedsQuotes(value)) {
    out->append(value);
    return;
  }
  // The same escapes as JSON: a logfmt reader takes them too.
  AppendJsonString(out, value);
}

// Writes one finished line. Called with the mutex held.
void Emit(State& s, int priority, const std::string& line) {
  if (s.capture != nullptr) {
    s.capture->push_back(line);
  } else if (s.use_syslog) {
    syslog(priority, "%s", line.c_str());
  } else if (s.journal_prefix) {
    std::fprintf(stderr, "<%d>%s\n", priority, line.c_str());
  } else {
    std::fprintf(stderr, "%s\n", line.c_str());
  }
}

// A message as its line in the configured format.
std::string MessageLine(const State& s, int priority, std::string_view text) {
  if (s.format == Format::kJson) {
    std::string line = absl::StrCat("{\"time\":\"", Now(), "\",\"level\":\"",
                                    Sv(LevelName(priority)), "\",\"msg\":");
    AppendJsonString(&line, text);
    line.push_back('}');
    return line;
  }
  // syslog and the journal say who wrote it.
  if (s.use_syslog || s.journal_prefix) return std::string(text);
  return absl::StrCat("pxe-pdhcp: ", Sv(text));
}

void Write(int priority, Level level, std::string_view text) {
  State& s = state();
  std::lock_guard lock(s.mutex);
  if (level < s.level) return;
  Emit(s, priority, MessageLine(s, priority, text));
}

void WriteSuppressed(State& s, std::string_view topic, uint64_t count) {
  Emit(s, LOG_WARNING,
       MessageLine(s, LOG_WARNING,
                   absl::StrCat(Sv(topic), ": ", count, " similar message",
                                count == 1 ? "" : "s",
                                " suppressed in the last minute")));
}

uint64_t MonotonicNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000 +
         static_cast<uint64_t>(ts.tv_nsec);
}

}  // namespace

std::optional<Level> ParseLevel(std::string_view text) {
  if (text == "debug") return Level::kDebug;
  if (text == "info") return Level::kInfo;
  if (text == "warning") return Level::kWarning;
  if (text == "error") return Level::kError;
  return std::nullopt;
}

std::optional<Format> ParseFormat(std::string_view text) {
  if (text == "text") return Format::kText;
  if (text == "json") return Format::kJson;
  return std::nullopt;
}

void Init(bool to_syslog, Level level, Format format) {
  State& s = state();
  std::lock_guard lock(s.mutex);
  s.use_syslog = to_syslog;
  s.level = level;
  s.format = format;
  // systemd sets JOURNAL_STREAM when stderr is connected to the journal.
  s.journal_prefix = std::getenv("JOURNAL_STREAM") != nullptr;
  if (s.use_syslog) openlog("pxe-pdhcp", LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

void Info(std::string_view text) { Write(LOG_INFO, Level::kInfo, text); }
void Warning(std::string_view text) {
  Write(LOG_WARNING, Level::kWarning, text);
}
void Error(std::string_view text) { Write(LOG_ERR, Level::kError, text); }

void Notice(std::string_view text) { NoticeAt(text, MonotonicNs()); }

void NoticeAt(std::string_view text, uint64_t now_ns) {
  const std::string_view topic = text.substr(0, text.find(':'));
  State& s = state();
  std::lock_guard lock(s.mutex);
  if (Level::kWarning < s.level) return;
  auto it = s.topics.find(topic);
  if (it != s.topics.end()) {
    if (now_ns - it->second.since_ns < kNoticeWindowNs) {
      ++it->second.suppressed;
      return;
    }
    if (it->second.suppressed != 0) {
      WriteSuppressed(s, topic, it->second.suppressed);
    }
    s.topics.erase(it);
  }
  s.topics.emplace(std::string(topic), State::Topic{.since_ns = now_ns});
  Emit(s, LOG_WARNING, MessageLine(s, LOG_WARNING, text));
}

void FlushSuppressed(uint64_t now_ns) {
  State& s = state();
  std::lock_guard lock(s.mutex);
  for (auto it = s.topics.begin(); it != s.topics.end();) {
    if (now_ns - it->second.since_ns < kNoticeWindowNs) {
      ++it;
      continue;
    }
    if (it->second.suppressed != 0) {
      WriteSuppressed(s, it->first, it->second.suppressed);
    }
    it = s.topics.erase(it);
  }
}

std::string FormatFields(const std::vector<Field>& fields, Format format) {
  std::string line;
  if (format == Format::kJson) {
    line.push_back('{');
    for (const Field& f : fields) {
      if (line.size() > 1) line.push_back(',');
      AppendJsonString(&line, f.key);
      line.push_back(':');
      if (f.number) {
        line += f.value;
      } else {
        AppendJsonString(&line, f.value);
      }
    }
    line.push_back('}');
    return line;
  }
  for (const Field& f : fields) {
    if (!line.empty()) line.push_back(' ');
    absl::StrAppend(&line, Sv(f.key), "=");
    AppendLogfmtValue(&line, f.value);
  }
  return line;
}

void Decision(const std::vector<Field>& fields) {
  State& s = state();
  std::vector<Field> line;
  line.reserve(fields.size() + 1);
  line.push_back({.key = "time", .value = Now()});
  line.insert(line.end(), fields.begin(), fields.end());
  const std::string text = FormatFields(line, s.format);
  std::lock_guard lock(s.mutex);
  Emit(s, LOG_INFO, text);
}

void CaptureForTesting(std::vector<std::string>* lines) {
  State& s = state();
  std::lock_guard lock(s.mutex);
  s.capture = lines;
}

}  // namespace pxe::log
