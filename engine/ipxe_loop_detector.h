// Notices the iPXE chainload loop (PXE -> ipxe.efi -> iPXE -> ipxe.efi ...):
// a machine that was given a boot file comes back, in a new DHCP exchange,
// as iPXE, and is about to be given the same file again. That happens when
// the file is iPXE itself (or loads it) and no ipxe_script tells iPXE what
// to do instead. pxe-pdhcp still answers (the file is what the operator
// configured); the responder counts and reports the loop so the operator
// sees why the machine never gets past iPXE.
//
// A new exchange is a DISCOVER after the previous one completed: a file was
// given (an OFFER or a port-4011 ACK carrying it) and the client selected a
// DHCP server (its DHCPREQUEST on port 67), in either order. Retransmitted
// DISCOVERs of the same exchange therefore never count, and the xid plays no
// part: it may repeat from one iPXE to the next (Debian's ipxe.efi on OVMF
// sent the same xid for the same MAC in every run). A machine that reboots
// into iPXE within `window_ns` of getting the same file counts too: the
// window keeps that rare.
//
// Per client MAC, in a bounded table allocated once (open addressing, short
// probe; when full, the entry with the oldest file makes room). Nothing
// allocates after construction.
#ifndef PXE_ENGINE_IPXE_LOOP_DETECTOR_H_
#define PXE_ENGINE_IPXE_LOOP_DETECTOR_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>

#include "engine/byte_order.h"

namespace pxe {

class IpxeLoopDetector {
 public:
  static constexpr uint64_t kDefaultWindowNs = 60'000'000'000;

  IpxeLoopDetector(size_t capacity, uint64_t window_ns = kDefaultWindowNs);

  // A DISCOVER from `mac` that will be answered; `ipxe_file` is the boot
  // file an iPXE client gets under the policy in force (empty when iPXE
  // gets its script, a menu or a URL instead, or when the client is not
  // iPXE). Returns how many exchanges in a row have now sent this iPXE back
  // to the file it was just given (1, 2, ...), or 0: no loop.
  uint32_t Discover(const MacAddress& mac, std::string_view ipxe_file,
                    uint64_t now_ns);
  // A reply carrying boot file `file` (not a URL for HTTP boot) went to
  // `mac`.
  void FileGiven(const MacAddress& mac, std::string_view file, uint64_t now_ns);
  // `mac` sent a DHCPREQUEST on port 67: it chose a DHCP server's offer.
  void Selected(const MacAddress& mac);

 private:
  static constexpr size_t kProbe = 4;
  struct Entry {
    uint64_t key = 0;        // the MAC, with bit 48 set; 0 = empty
    uint64_t file_hash = 0;  // of the last file given; 0 = none yet
    uint64_t given_ns = 0;
    uint32_t loops = 0;     // consecutive exchanges that looped
    bool selected = false;  // a DHCPREQUEST since the exchange began
  };
  // The entry of `mac`, or null; with `create`, one made (or taken over).
  Entry* Find(const MacAddress& mac, bool create);

  uint64_t window_ns_;
  size_t mask_;
  std::unique_ptr<Entry[]> entries_;
};

}  // namespace pxe

#endif  // PXE_ENGINE_IPXE_LOOP_DETECTOR_H_
