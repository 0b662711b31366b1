// Counts heap allocations, for tests that prove a path never touches the
// heap. Link it only into such test binaries: it interposes the C allocator
// (malloc, calloc, realloc, free and the aligned forms), under which
// operator new and delete, strdup and the rest of the C library allocate;
// under AddressSanitizer it uses the sanitizer's allocation hooks instead.
#ifndef PXE_TESTS_TESTING_ALLOCATION_COUNTER_H_
#define PXE_TESTS_TESTING_ALLOCATION_COUNTER_H_

#include <cstdint>

namespace pxe::testing {

// Counts the heap traffic of this thread between construction and Stop().
// Nothing that may allocate (gtest assertions, logging) belongs between the
// two: record results in plain variables and check them after Stop().
class AllocationCounter {
 public:
  AllocationCounter();
  ~AllocationCounter();
  AllocationCounter(const AllocationCounter&) = delete;
  AllocationCounter& operator=(const AllocationCounter&) = delete;

  void Stop();
  uint64_t allocations() const;
  uint64_t deallocations() const;
};

}  // namespace pxe::testing

#endif  // PXE_TESTS_TESTING_ALLOCATION_COUNTER_H_
