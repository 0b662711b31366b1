#include "tests/testing/allocation_counter.h"

#include <cstddef>
#include <cstdint>

namespace {

// Counting is per thread, so that nothing another thread does (none today;
// gtest may grow one) is blamed on the code under test. Constant-initialized
// thread_locals need no TLS constructor, so they are safe to touch from
// malloc at any time, even during static initialization.
thread_local bool t_counting = false;
thread_local uint64_t t_allocations = 0;
thread_local uint64_t t_deallocations = 0;

void CountAllocation() {
  if (t_counting) ++t_allocations;
}
void CountDeallocation(const volatile void* p) {
  if (p != nullptr && t_counting) ++t_deallocations;
}

}  // namespace

// The counter sits under the C allocator, not only under operator new: the
// default operator new and delete call malloc and free (aligned new:
// aligned_alloc), and so do strdup, std::string's C helpers, printf's
// buffers and anything else, so no heap traffic slips past it.
#if defined(__SANITIZE_ADDRESS__)
#define PXE_ALLOCATION_HOOKS 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define PXE_ALLOCATION_HOOKS 1
#endif
#endif

#ifdef PXE_ALLOCATION_HOOKS
// Under AddressSanitizer, which owns malloc and operator new, its hooks see
// every allocation and free, whatever the entry point.
// Declared here: GCC installs no sanitizer/allocator_interface.h, but its
// libasan has the function, as clang's does.
extern "C" int __sanitizer_install_malloc_and_free_hooks(
    void (*malloc_hook)(const volatile void*, std::size_t),
    void (*free_hook)(const volatile void*));

namespace {

void MallocHook(const volatile void*, std::size_t) { CountAllocation(); }
void FreeHook(const volatile void* p) { CountDeallocation(p); }

[[maybe_unused]] const int kHooksInstalled =
    __sanitizer_install_malloc_and_free_hooks(MallocHook, FreeHook);

}  // namespace

#else
// Otherwise the program's own malloc family interposes glibc's (as glibc
// documents for replacing malloc), counts, and forwards to glibc's
// allocator under its __libc_ names; calls inside glibc (strdup, fopen, ...)
// come here too.
extern "C" {
void* __libc_malloc(std::size_t size);
void* __libc_calloc(std::size_t count, std::size_t size);
void* __libc_realloc(void* p, std::size_t size);
void* __libc_memalign(std::size_t alignment, std::size_t size);
void* __libc_valloc(std::size_t size);
void* __libc_pvalloc(std::size_t size);
void __libc_free(void* p);

void* malloc(std::size_t size) {
  CountAllocation();
  return __libc_malloc(size);
}
void* calloc(std::size_t count, std::size_t size) {
  CountAllocation();
  return __libc_calloc(count, size);
}
void* realloc(void* p, std::size_t size) {
  CountAllocation();  // moving or resizing a block is heap traffic too
  return __libc_realloc(p, size);
}
void free(void* p) {
  CountDeallocation(p);
  __libc_free(p);
}
void* memalign(std::size_t alignment, std::size_t size) {
  CountAllocation();
  return __libc_memalign(alignment, size);
}
void* aligned_alloc(std::size_t alignment, std::size_t size) {
  CountAllocation();
  return __libc_memalign(alignment, size);
}
int posix_memalign(void** out, std::size_t alignment, std::size_t size) {
  // posix_memalign's own checks: a power of two multiple of sizeof(void*).
  if (alignment % sizeof(void*) != 0 || (alignment & (alignment - 1)) != 0) {
    return 22;  // EINVAL
  }
  CountAllocation();
  void* p = __libc_memalign(alignment, size);
  if (p == nullptr) return 12;  // ENOMEM
  *out = p;
  return 0;
}
void* valloc(std::size_t size) {
  CountAllocation();
  return __libc_valloc(size);
}
void* pvalloc(std::size_t size) {
  CountAllocation();
  return __libc_pvalloc(size);
}
}  // extern "C"
#endif

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
