#include "tests/testing/compiled_policy.h"

#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace pxe::testing {

std::unique_ptr<const PolicySnapshot> CompileOrDie(BootPolicy policy) {
  absl::StatusOr<std::unique_ptr<const PolicySnapshot>> snapshot =
      PolicySnapshot::Compile(std::move(policy));
  if (!snapshot.ok()) {
    const std::string message = snapshot.status().ToString();
    std::fprintf(stderr, "test policy does not compile: %s\n", message.c_str());
    std::abort();
  }
  return *std::move(snapshot);
}

const PolicySnapshot& Compiled(BootPolicy policy) {
  static std::mutex mutex;
  // Never freed: a test may hold the reference until the program ends.
  static auto* snapshots =
      new std::vector<std::unique_ptr<const PolicySnapshot>>();
  std::unique_ptr<const PolicySnapshot> snapshot =
      CompileOrDie(std::move(policy));
  const PolicySnapshot& result = *snapshot;
  std::lock_guard<std::mutex> lock(mutex);
  snapshots->push_back(std::move(snapshot));
  return result;
}

}  // namespace pxe::testing
