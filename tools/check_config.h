// --check-config: the compiled configuration in words, for an operator to
// read before a reload: server settings, the defaults per architecture,
// each menu, each rule in order with its match and what it changes, and
// the warnings.
#ifndef PXE_TOOLS_CHECK_CONFIG_H_
#define PXE_TOOLS_CHECK_CONFIG_H_

#include <string>

#include "engine/policy_snapshot.h"
#include "tools/config.h"

namespace pxe {

// `policy` is config.policy compiled. Sections start with "[server]",
// "[boot]", "[menu.NAME]", "[[rule]]" and "warnings:".
std::string DescribeConfig(const DaemonConfig& config,
                           const PolicySnapshot& policy);

}  // namespace pxe

#endif  // PXE_TOOLS_CHECK_CONFIG_H_
