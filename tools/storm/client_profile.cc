#include "tools/storm/client_profile.h"

namespace pxe::storm {
namespace {

constexpr uint16_t kArchBios[] = {0};
constexpr uint16_t kArchUefiX64[] = {7};
constexpr uint16_t kArchArm64[] = {11};
constexpr uint16_t kArchHttpX64[] = {16};

// Option 60 and 94 as the firmware sends them (tests/data captures for BIOS
// iPXE and OVMF; EDK2 HTTP boot reports UNDI 3.1).
constexpr std::array<ClientProfile, kClientTypeCount> kProfiles = {{
    {.name = "bios",
     .arch_codes = kArchBios,
     .vendor_class = "PXEClient:Arch:00000:UNDI:002001",
     .undi = {2, 1},
     .broadcast = false,
     .ipxe = false,
     .http = false,
     .edk2 = false},
    {.name = "uefi-x64",
     .arch_codes = kArchUefiX64,
     .vendor_class = "PXEClient:Arch:00007:UNDI:003000",
     .undi = {3, 0},
     .broadcast = true,
     .ipxe = false,
     .http = false,
     .edk2 = true},
    {.name = "arm64",
     .arch_codes = kArchArm64,
     .vendor_class = "PXEClient:Arch:00011:UNDI:003000",
     .undi = {3, 0},
     .broadcast = true,
     .ipxe = false,
     .http = false,
     .edk2 = true},
    {.name = "ipxe",
     .arch_codes = kArchBios,
     .vendor_class = "PXEClient:Arch:00000:UNDI:002001",
     .undi = {2, 1},
     .broadcast = false,
     .ipxe = true,
     .http = false,
     .edk2 = false},
    {.name = "http",
     .arch_codes = kArchHttpX64,
     .vendor_class = "HTTPClient:Arch:00016:UNDI:003001",
     .undi = {3, 1},
     .broadcast = true,
     .ipxe = false,
     .http = true,
     .edk2 = false},
    // OVMF's PXEv6 and HTTPv6 Solicits (tests/data) report UNDI 3.0.
    {.name = "uefi-x64-v6",
     .arch_codes = kArchUefiX64,
     .vendor_class = "PXEClient:Arch:00007:UNDI:003000",
     .undi = {3, 0},
     .broadcast = false,
     .ipxe = false,
     .http = false,
     .edk2 = true,
     .ipv6 = true},
    {.name = "http-v6",
     .arch_codes = kArchHttpX64,
     .vendor_class = "HTTPClient:Arch:00016:UNDI:003000",
     .undi = {3, 0},
     .broadcast = false,
     .ipxe = false,
     .http = true,
     .edk2 = false,
     .ipv6 = true},
}};

}  // namespace

const ClientProfile& Profile(ClientType type) {
  return kProfiles[static_cast<size_t>(type)];
}

std::optional<ClientType> ParseClientTypeName(std::string_view name) {
  for (size_t i = 0; i < kClientTypeCount; ++i) {
    if (kProfiles[i].name == name) return static_cast<ClientType>(i);
  }
  return std::nullopt;
}

}  // namespace pxe::storm
