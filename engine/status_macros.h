// The two status macros Abseil 20220623 lacks, and a bridge for its own
// string_view (Debian builds it with ABSL_OPTION_USE_STD_STRING_VIEW 0, so
// absl::StrCat does not take std::string_view).
#ifndef PXE_ENGINE_STATUS_MACROS_H_
#define PXE_ENGINE_STATUS_MACROS_H_

#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace pxe {

inline absl::string_view Sv(std::string_view s) { return {s.data(), s.size()}; }

}  // namespace pxe

#define PXE_STATUS_CONCAT_INNER_(a, b) a##b
#define PXE_STATUS_CONCAT_(a, b) PXE_STATUS_CONCAT_INNER_(a, b)

// Returns from the enclosing function if `expr` (an absl::Status) is an error.
#define PXE_RETURN_IF_ERROR(expr)                               \
  do {                                                          \
    if (absl::Status pxe_status_ = (expr); !pxe_status_.ok()) { \
      return pxe_status_;                                       \
    }                                                           \
  } while (0)

// `lhs = value of expr` (an absl::StatusOr<T>), or returns its error.
#define PXE_ASSIGN_OR_RETURN(lhs, expr) \
  PXE_ASSIGN_OR_RETURN_IMPL_(PXE_STATUS_CONCAT_(pxe_or_, __LINE__), lhs, expr)
#define PXE_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                               \
  if (!tmp.ok()) return std::move(tmp).status();   \
  lhs = std::move(tmp).value()

#endif  // PXE_ENGINE_STATUS_MACROS_H_
