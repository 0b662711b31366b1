// Client system architectures (option 93, RFC 4578 §2.1 and the IANA
// "Processor Architecture Types" registry) grouped into the classes that get
// a boot file of their own.
#ifndef PXE_ENGINE_ARCH_H_
#define PXE_ENGINE_ARCH_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

namespace pxe {

enum class ArchClass : uint8_t {
  kBios,         // 0: x86 BIOS (also the Raspberry Pi bootloader)
  kUefiIa32,     // 6, 15 (HTTP)
  kUefiX64,      // 7 and 9 (RFC 4578 erratum: both seen as x64), 16 (HTTP)
  kUefiArm32,    // 10, 18 (HTTP)
  kUefiArm64,    // 11, 19 (HTTP)
  kUbootArm32,   // 21, 23 (HTTP)
  kUbootArm64,   // 22, 24 (HTTP)
  kUefiRiscV32,  // 25, 26 (HTTP)
  kUefiRiscV64,  // 27, 28 (HTTP)
};
inline constexpr size_t kArchClassCount = 9;

struct ArchInfo {
  ArchClass arch_class;
  bool http;  // an HTTP-boot code (the client wants a URL)
  bool uefi;  // UEFI firmware: gets BINL-style offers by default
};

// The class of a known option-93 code, or nullopt for codes we do not serve
// (Itanium, PC-98, EBC is treated as x64 per the erratum, ...).
std::optional<ArchInfo> LookupArch(uint16_t code);

// The code in a vendor class such as "PXEClient:Arch:00007:UNDI:003000"
// (five decimal digits after ":Arch:"), if any.
std::optional<uint16_t> ArchCodeFromVendorClass(std::span<const uint8_t> vc);

// A client's architecture, as DHCPv4 option 93 and DHCPv6 option 61 give
// it: `codes` is a list of 16-bit big-endian codes, of which the first one
// served wins; without one, the code in `vendor_class`; without either, BIOS
// (PXE 2.1 ROMs predate option 93). `known` is false when the client named
// only codes we do not serve.
struct ClientArch {
  uint16_t code = 0;
  ArchInfo info{ArchClass::kBios, false, false};
  bool known = true;
};
// Inline: on the packet path of every request.
inline ClientArch ResolveClientArch(std::span<const uint8_t> codes,
                                    std::span<const uint8_t> vendor_class) {
  ClientArch out;
  if (codes.size() >= 2) {
    for (size_t i = 0; i + 1 < codes.size(); i += 2) {
      const uint16_t code = static_cast<uint16_t>(codes[i] << 8 | codes[i + 1]);
      if (auto info = LookupArch(code)) {
        out.code = code;
        out.info = *info;
        return out;
      }
    }
    out.code = static_cast<uint16_t>(codes[0] << 8 | codes[1]);
    out.known = false;
    return out;
  }
  if (auto code = ArchCodeFromVendorClass(vendor_class)) {
    out.code = *code;
    if (auto info = LookupArch(*code)) {
      out.info = *info;
    } else {
      out.known = false;
    }
  }
  return out;
}

// "bios", "uefi-ia32", "uefi-x64", ... as used in flags and logs.
std::string_view ArchClassName(ArchClass arch_class);
std::optional<ArchClass> ParseArchClassName(std::string_view name);

}  // namespace pxe

#endif  // PXE_ENGINE_ARCH_H_
