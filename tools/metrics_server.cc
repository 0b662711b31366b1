#include "tools/metrics_server.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <poll.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "engine/status_macros.h"

namespace pxe {
namespace {

constexpr char kExample[] = "ADDR:PORT, e.g. 127.0.0.1:9767 or [::1]:9767";

absl::Status Errno(std::string_view what) {
  return absl::UnavailableError(
      absl::StrCat(Sv(what), ": ", std::strerror(errno)));
}

int64_t MonotonicMs() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t{ts.tv_sec} * 1000 + ts.tv_nsec / 1'000'000;
}

MHD_Result Respond(MHD_Connection* connection, unsigned status,
                   std::string_view body) {
  MHD_Response* response = MHD_create_response_from_buffer(
      body.size(), const_cast<char*>(body.data()), MHD_RESPMEM_MUST_COPY);
  if (response == nullptr) return MHD_NO;
  MHD_add_response_header(response, MHD_HTTP_HEADER_CONTENT_TYPE,
                          status == MHD_HTTP_OK
                              ? "text/plain; version=0.0.4; charset=utf-8"
                              : "text/plain; charset=utf-8");
  const MHD_Result result = MHD_queue_response(connection, status, response);
  MHD_destroy_response(response);
  return result;
}

MHD_Result HandleRequest(void* cls, MHD_Connection* connection, const char* url,
                         const char* method, const char* /*version*/,
                         const char* /*upload_data*/, size_t* upload_data_size,
                         void** /*request_state*/) {
  // A body (there should be none) arrives in later calls: ignore it.
  if (*upload_data_size != 0) {
    *upload_data_size = 0;
    return MHD_YES;
  }
  const std::string_view path = url;
  if (path != "/metrics" && path != "/") {
    return Respond(connection, MHD_HTTP_NOT_FOUND, "not found: try /metrics\n");
  }
  const std::string_view verb = method;
  if (verb != MHD_HTTP_METHOD_GET && verb != MHD_HTTP_METHOD_HEAD) {
    return Respond(connection, MHD_HTTP_METHOD_NOT_ALLOWED,
                   "only GET /metrics\n");
  }
  const auto& render = *static_cast<std::function<std::string()>*>(cls);
  return Respond(connection, MHD_HTTP_OK, render());
}

}  // namespace

absl::StatusOr<MetricsAddress> ParseMetricsAddress(std::string_view text) {
  const size_t colon = text.rfind(':');
  if (colon == std::string_view::npos || colon == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("metrics address \"", Sv(text), "\" is not ", kExample));
  }
  std::string_view host = text.substr(0, colon);
  const std::string_view port_text = text.substr(colon + 1);
  int port = 0;
  if (!absl::SimpleAtoi(Sv(port_text), &port) || port < 1 || port > 65535) {
    return absl::InvalidArgumentError(absl::StrCat("metrics address \"",
                                                   Sv(text),
                                                   "\": the port must be 1 "
                                                   "to 65535 (",
                                                   kExample, ")"));
  }
  MetricsAddress out;
  const bool bracketed =
      host.size() >= 2 && host.front() == '[' && host.back() == ']';
  if (bracketed) {
    host = host.substr(1, host.size() - 2);
    auto* six = reinterpret_cast<sockaddr_in6*>(&out.address);
    six->sin6_family = AF_INET6;
    six->sin6_port = htons(static_cast<uint16_t>(port));
    if (inet_pton(AF_INET6, std::string(host).c_str(), &six->sin6_addr) == 1) {
      out.length = sizeof(sockaddr_in6);
      return out;
    }
  } else {
    auto* four = reinterpret_cast<sockaddr_in*>(&out.address);
    four->sin_family = AF_INET;
    four->sin_port = htons(static_cast<uint16_t>(port));
    if (inet_pton(AF_INET, std::string(host).c_str(), &four->sin_addr) == 1) {
      out.length = sizeof(sockaddr_in);
      return out;
    }
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "metrics address \"", Sv(text), "\": \"", Sv(host),
      "\" is not an IPv4 or IPv6 address (", kExample, "; IPv6 in brackets)"));
}

absl::StatusOr<UniqueFd> ListenForMetrics(std::string_view text) {
  PXE_ASSIGN_OR_RETURN(const MetricsAddress a, ParseMetricsAddress(text));
  const std::string where = absl::StrCat("metrics: listening on ", Sv(text));
  UniqueFd fd(socket(a.address.ss_family,
                     SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!fd.valid()) return Errno(absl::StrCat(where, ": socket"));
  const int one = 1;
  setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  if (a.address.ss_family == AF_INET6) {
    setsockopt(fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
  }
  if (bind(fd.get(), reinterpret_cast<const sockaddr*>(&a.address), a.length) !=
      0) {
    return Errno(where);
  }
  if (listen(fd.get(), 16) != 0) return Errno(absl::StrCat(where, ": listen"));
  return fd;
}

absl::StatusOr<std::unique_ptr<MetricsServer>> MetricsServer::Start(
    UniqueFd listener, std::function<std::string()> render) {
  std::unique_ptr<MetricsServer> server(new MetricsServer());
  server->render_ = std::move(render);
  // poll(), not select() or epoll: one system call the sandbox already
  // allows. A few connections at once is plenty for scrapers.
  server->daemon_ = MHD_start_daemon(
      MHD_USE_POLL_INTERNAL_THREAD, 0, nullptr, nullptr, &HandleRequest,
      &server->render_, MHD_OPTION_LISTEN_SOCKET, listener.get(),
      MHD_OPTION_CONNECTION_LIMIT, 8u, MHD_OPTION_CONNECTION_TIMEOUT, 10u,
      MHD_OPTION_END);
  if (server->daemon_ == nullptr) {
    return absl::InternalError(
        "metrics: the HTTP server (libmicrohttpd) did not start");
  }
  listener.Release();  // MHD_stop_daemon() closes it
  return server;
}

MetricsServer::~MetricsServer() {
  if (daemon_ != nullptr) MHD_stop_daemon(daemon_);
}

absl::StatusOr<std::string> FetchMetrics(std::string_view text,
                                         int timeout_ms) {
  PXE_ASSIGN_OR_RETURN(const MetricsAddress a, ParseMetricsAddress(text));
  const std::string where = absl::StrCat("GET http://", Sv(text), "/metrics");
  const int64_t deadline = MonotonicMs() + timeout_ms;
  // Waits for `events` on `fd` until the deadline.
  auto wait = [&](int fd, short events) -> absl::Status {
    pollfd p{.fd = fd, .events = events};
    const int64_t left = deadline - MonotonicMs();
    if (left <= 0 || poll(&p, 1, static_cast<int>(left)) != 1) {
      return absl::DeadlineExceededError(
          absl::StrCat(where, ": no answer within ", timeout_ms, " ms"));
    }
    return absl::OkStatus();
  };
  UniqueFd fd(socket(a.address.ss_family,
                     SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!fd.valid()) return Errno(absl::StrCat(where, ": socket"));
  if (connect(fd.get(), reinterpret_cast<const sockaddr*>(&a.address),
              a.length) != 0 &&
      errno != EINPROGRESS) {
    return Errno(where);
  }
  PXE_RETURN_IF_ERROR(wait(fd.get(), POLLOUT));
  int error = 0;
  socklen_t length = sizeof(error);
  getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &error, &length);
  if (error != 0) {
    errno = error;
    return Errno(absl::StrCat(where, " (is --metrics set on the daemon?)"));
  }
  const std::string request =
      absl::StrCat("GET /metrics HTTP/1.0\r\nHost: ", Sv(text), "\r\n\r\n");
  if (send(fd.get(), request.data(), request.size(), MSG_NOSIGNAL) !=
      static_cast<ssize_t>(request.size())) {
    return Errno(where);
  }
  std::string response;
  char buffer[16384];
  for (;;) {
    PXE_RETURN_IF_ERROR(wait(fd.get(), POLLIN));
    const ssize_t n = recv(fd.get(), buffer, sizeof(buffer), 0);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
    if (n < 0) return Errno(where);
    if (n == 0) break;  // HTTP/1.0: the server closes after the body
    response.append(buffer, static_cast<size_t>(n));
  }
  const size_t body = response.find("\r\n\r\n");
  if (!response.starts_with("HTTP/1.") || body == std::string::npos) {
    return absl::DataLossError(absl::StrCat(where, ": not an HTTP response"));
  }
  const std::string status_line = response.substr(0, response.find("\r\n"));
  if (status_line.find(" 200 ") == std::string::npos) {
    return absl::UnavailableError(absl::StrCat(where, ": ", status_line));
  }
  return response.substr(body + 4);
}

}  // namespace pxe
