#include "tests/testing/allocation_counter.h"

#include <cstdlib>
#include <new>

namespace {

// Counting is per thread, so that nothing another thread does (none today;
// gtest may grow one) is blamed on the code under test. Constant-initialized
// thread_locals need no TLS constructor, so they are safe to touch from
// operator new at any time, even during static initialization.
thread_local bool t_counting = false;
thread_local uint64_t t_allocations = 0;
thread_local uint64_t t_deallocations = 0;

// Out of line: inlined into a caller, free() on memory from operator new
// trips g++'s -Wmismatched-new-delete, which does not know that here operator
// new is malloc.
[[gnu::noinline]] void* CountedAlloc(std::size_t size) {
  if (t_counting) ++t_allocations;
  // malloc(0) may return nullptr; operator new must not.
  return std::malloc(size == 0 ? 1 : size);
}

[[gnu::noinline]] void* CountedAlignedAlloc(std::size_t size,
                                            std::align_val_t align) {
  if (t_counting) ++t_allocations;
  void* p = nullptr;
  // Aligned new is only used for alignments above the default (16), which
  // are always multiples of sizeof(void*), as posix_memalign requires.
  const std::size_t alignment = static_cast<std::size_t>(align);
  if (posix_memalign(&p, alignment < sizeof(void*) ? sizeof(void*) : alignment,
                     size == 0 ? 1 : size) != 0) {
    return nullptr;
  }
  return p;
}

[[gnu::noinline]] void CountedFree(void* p) {
  if (p == nullptr) return;
  if (t_counting) ++t_deallocations;
  std::free(p);
}

}  // namespace

// The replaceable allocation functions ([new.delete]): every form, so that
// no allocation can slip past the counter through a variant we forgot.
void* operator new(std::size_t size) {
  if (void* p = CountedAlloc(size)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t size) {
  if (void* p = CountedAlloc(size)) return p;
  throw std::bad_alloc();
}
void* operator new(std::size_t size, const std::nothrow_t&) noexcept {
  return CountedAlloc(size);
}
void* operator new[](std::size_t size, const std::nothrow_t&) noexcept {
  return CountedAlloc(size);
}
void* operator new(std::size_t size, std::align_val_t align) {
  if (void* p = CountedAlignedAlloc(size, align)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t size, std::align_val_t align) {
  if (void* p = CountedAlignedAlloc(size, align)) return p;
  throw std::bad_alloc();
}
void* operator new(std::size_t size, std::align_val_t align,
                   const std::nothrow_t&) noexcept {
  return CountedAlignedAlloc(size, align);
}
void* operator new[](std::size_t size, std::align_val_t align,
                     const std::nothrow_t&) noexcept {
  return CountedAlignedAlloc(size, align);
}

void operator delete(void* p) noexcept { CountedFree(p); }
void operator delete[](void* p) noexcept { CountedFree(p); }
void operator delete(void* p, std::size_t) noexcept { CountedFree(p); }
void operator delete[](void* p, std::size_t) noexcept { CountedFree(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept {
  CountedFree(p);
}
void operator delete[](void* p, const std::nothrow_t&) noexcept {
  CountedFree(p);
}
void operator delete(void* p, std::align_val_t) noexcept { CountedFree(p); }
void operator delete[](void* p, std::align_val_t) noexcept { CountedFree(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept {
  CountedFree(p);
}
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept {
  CountedFree(p);
}
void operator delete(void* p, std::align_val_t,
                     const std::nothrow_t&) noexcept {
  CountedFree(p);
}
void operator delete[](void* p, std::align_val_t,
                       const std::nothrow_t&) noexcept {
  CountedFree(p);
}

namespace pxe::testing {

AllocationCounter::AllocationCounter() {
  t_allocations = 0;
  t_deallocations = 0;
  t_counting = true;
}
AllocationCounter::~AllocationCounter() { t_counting = false; }
void AllocationCounter::Stop() { t_counting = false; }
uint64_t AllocationCounter::allocations() const { return t_allocations; }
uint64_t AllocationCounter::deallocations() const { return t_deallocations; }

}  // namespace pxe::testing
