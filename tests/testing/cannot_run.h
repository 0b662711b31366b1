// Tests that cannot run on this machine: a skip on a developer's machine, a
// failure where every test is expected to run.
//
// PXE_CANNOT_RUN(reason) is for a test that needs root, a program or a
// firmware file it cannot find. It skips (GTEST_SKIP) with the reason, and
// fails instead, with "could not run: <reason>", when CI=true or
// PXE_REQUIRE_ALL=1 is in the environment: in CI, and in tools/test.sh run
// as root (which has installed every package first), a test that cannot run
// is a broken setup, and must not pass as a pass.
//
// PXE_SKIP_KERNEL_LACKS(feature, detail) is for what no package can fix: a
// kernel built without a feature (e.g. 8021q, for VLAN devices). It always
// skips, with a message that starts "kernel lacks <feature>:", which
// tools/test.sh finds in ctest's results and names in its summary.
//
// Both return from the calling function (a TEST body or SetUp()), as
// GTEST_SKIP does. Only for GoogleTest tests; shell tests source
// tests/testing/cannot_run.sh.
#ifndef PXE_TESTS_TESTING_CANNOT_RUN_H_
#define PXE_TESTS_TESTING_CANNOT_RUN_H_

#include <cstdlib>
#include <string_view>

#include "gtest/gtest.h"

namespace pxe::testing {

// True when CI=true or PXE_REQUIRE_ALL=1: a test that cannot run fails.
inline bool EveryTestMustRun() {
  const char* ci = std::getenv("CI");
  const char* require_all = std::getenv("PXE_REQUIRE_ALL");
  return (ci != nullptr && std::string_view(ci) == "true") ||
         (require_all != nullptr && std::string_view(require_all) == "1");
}

}  // namespace pxe::testing

#define PXE_CANNOT_RUN(reason)                                         \
  do {                                                                 \
    if (::pxe::testing::EveryTestMustRun()) {                          \
      GTEST_FAIL() << "could not run (CI=true or PXE_REQUIRE_ALL=1): " \
                   << (reason);                                        \
    }                                                                  \
    GTEST_SKIP() << (reason);                                          \
  } while (false)

#define PXE_SKIP_KERNEL_LACKS(feature, detail)                        \
  do {                                                                \
    GTEST_SKIP() << "kernel lacks " << (feature) << ": " << (detail); \
  } while (false)

#endif  // PXE_TESTS_TESTING_CANNOT_RUN_H_
