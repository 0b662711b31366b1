// Test-only shorthand for compiled policies: Compiled(policy) validates and
// compiles a BootPolicy into a PolicySnapshot that lives until the program
// ends, so a test passes `Compiled(policy)` where the engine wants a
// snapshot. A policy that does not compile is a broken test, not a result:
// it aborts with the compile error.
#ifndef PXE_TESTS_TESTING_COMPILED_POLICY_H_
#define PXE_TESTS_TESTING_COMPILED_POLICY_H_

#include <memory>

#include "engine/boot_policy.h"
#include "engine/policy_snapshot.h"

namespace pxe::testing {

// A snapshot of `policy`, kept alive for the rest of the program (the
// address stays valid across later calls). Aborts, printing the status, if
// PolicySnapshot::Compile() refuses the policy.
const PolicySnapshot& Compiled(BootPolicy policy);

// The same, owned by the caller (for tests that swap snapshots or want them
// freed).
std::unique_ptr<const PolicySnapshot> CompileOrDie(BootPolicy policy);

}  // namespace pxe::testing

#endif  // PXE_TESTS_TESTING_COMPILED_POLICY_H_
