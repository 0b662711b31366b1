#include "engine/arch.h"

#include <array>
#include <string_view>

#include "engine/byte_order.h"

namespace pxe {
namespace {

constexpr std::array<std::string_view, kArchClassCount> kNames = {
    "bios",        "uefi-ia32",   "uefi-x64",     "uefi-arm32",  "uefi-arm64",
    "uboot-arm32", "uboot-arm64", "uefi-riscv32", "uefi-riscv64"};

}  // namespace

std::optional<ArchInfo> LookupArch(uint16_t code) {
  using enum ArchClass;
  switch (code) {
    case 0:
      return ArchInfo{kBios, false, false};
    case 6:
      return ArchInfo{kUefiIa32, false, true};
    case 7:
    case 9:
      return ArchInfo{kUefiX64, false, true};
    case 10:
      return ArchInfo{kUefiArm32, false, true};
    case 11:
      return ArchInfo{kUefiArm64, false, true};
    case 15:
      return ArchInfo{kUefiIa32, true, true};
    case 16:
      return ArchInfo{kUefiX64, true, true};
    case 18:
      return ArchInfo{kUefiArm32, true, true};
    case 19:
      return ArchInfo{kUefiArm64, true, true};
    case 21:
      return ArchInfo{kUbootArm32, false, false};
    case 22:
      return ArchInfo{kUbootArm64, false, false};
    case 23:
      return ArchInfo{kUbootArm32, true, false};
    case 24:
      return ArchInfo{kUbootArm64, true, false};
    case 25:
      return ArchInfo{kUefiRiscV32, false, true};
    case 26:
      return ArchInfo{kUefiRiscV32, true, true};
    case 27:
      return ArchInfo{kUefiRiscV64, false, true};
    case 28:
      return ArchInfo{kUefiRiscV64, true, true};
    default:
      return std::nullopt;
  }
}

std::string_view ArchClassName(ArchClass arch_class) {
  return kNames[static_cast<size_t>(arch_class)];
}

std::optional<ArchClass> ParseArchClassName(std::string_view name) {
  for (size_t i = 0; i < kNames.size(); ++i) {
    if (kNames[i] == name) return static_cast<ArchClass>(i);
  }
  return std::nullopt;
}

std::optional<uint16_t> ArchCodeFromVendorClass(std::span<const uint8_t> vc) {
  constexpr std::string_view kTag = ":Arch:";
  const std::string_view text(reinterpret_cast<const char*>(vc.data()),
                              vc.size());
  const size_t at = text.find(kTag);
  if (at == std::string_view::npos || text.size() - at - kTag.size() < 5) {
    return std::nullopt;
  }
  uint32_t value = 0;
  for (char c : text.substr(at + kTag.size(), 5)) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + static_cast<uint32_t>(c - '0');
  }
  if (value > 0xFFFF) return std::nullopt;
  return static_cast<uint16_t>(value);
}

}  // namespace pxe
