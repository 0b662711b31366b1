// The metrics endpoint: libmicrohttpd serving GET /metrics on its own
// thread, and a tiny client for pxe-pdhcp --status.
//
// The listening socket is made by ListenForMetrics() before the daemon
// enters its sandbox (the system call filter has no socket() for TCP);
// MetricsServer::Start() then runs the server thread over it, after the
// sandbox (threads must start after it). A scrape calls `render` on that
// thread: it reads the workers' counters, never waits for them.
#ifndef PXE_TOOLS_METRICS_SERVER_H_
#define PXE_TOOLS_METRICS_SERVER_H_

#include <sys/socket.h>

#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "capture/unique_fd.h"

struct MHD_Daemon;

namespace pxe {

// A TCP address: "127.0.0.1:9767" or "[::1]:9767".
struct MetricsAddress {
  sockaddr_storage address{};
  socklen_t length = 0;
};
// Parses `text`; the error says what form to use.
absl::StatusOr<MetricsAddress> ParseMetricsAddress(std::string_view text);

// A listening TCP socket on `text` (a MetricsAddress). Errors name the
// address and the reason (address in use, not an address of this host).
absl::StatusOr<UniqueFd> ListenForMetrics(std::string_view text);

class MetricsServer {
 public:
  // Serves `render()` as GET /metrics (and /) from `listener` on a thread
  // of its own; other paths get 404, other methods 405.
  static absl::StatusOr<std::unique_ptr<MetricsServer>> Start(
      UniqueFd listener, std::function<std::string()> render);
  ~MetricsServer();  // stops the thread, closes the socket

  MetricsServer(const MetricsServer&) = delete;
  MetricsServer& operator=(const MetricsServer&) = delete;

 private:
  MetricsServer() = default;

  std::function<std::string()> render_;  // called on the server's thread
  MHD_Daemon* daemon_ = nullptr;
};

// pxe-pdhcp --status: GET /metrics from `text` (a MetricsAddress) and
// return the body; waits at most `timeout_ms` in all.
absl::StatusOr<std::string> FetchMetrics(std::string_view text,
                                         int timeout_ms = 5000);

}  // namespace pxe

#endif  // PXE_TOOLS_METRICS_SERVER_H_
