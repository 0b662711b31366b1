// OptionIndex: how the DHCP options of a client message are found (RFC 2132
// §2-3, RFC 3396 long options, RFC 2132 §9.3 option overload), including the
// lenient handling of a missing END and a truncated last option that real
// ROMs send, without ever reading outside the message.
#include "engine/dhcp_options.h"

#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "engine/bootp.h"
#include "engine/frame.h"
#include "gtest/gtest.h"
#include "tests/testing/packet_builder.h"

namespace pxe {
namespace {

using ::pxe::testing::BuildFrame;
using ::pxe::testing::DhcpOption;
using ::pxe::testing::EncodeOptions;
using ::pxe::testing::FrameSpec;
using ::pxe::testing::MessageTypeOpt;
using ::pxe::testing::Opt;

// A message and its index. The index points into `frame`, so this is
// neither copied nor moved.
struct Indexed {
  explicit Indexed(const FrameSpec& spec) : frame(BuildFrame(spec)) {
    FrameView view;
    RxMeta meta;
    if (ParseFrame(frame, meta, &view) != DropReason::kNone ||
        BootpView::Parse(view.payload, &bootp) != DropReason::kNone) {
      ADD_FAILURE() << "test frame does not parse";
      return;
    }
    parsed = true;
    result = index.Parse(bootp);
  }
  Indexed(const Indexed&) = delete;
  Indexed& operator=(const Indexed&) = delete;

  std::vector<uint8_t> frame;
  BootpView bootp;
  OptionIndex index;
  bool parsed = false;
  DropReason result = DropReason::kNone;
};

std::string Str(std::span<const uint8_t> bytes) {
  return std::string(bytes.begin(), bytes.end());
}

std::vector<uint8_t> Vec(std::span<const uint8_t> bytes) {
  return std::vector<uint8_t>(bytes.begin(), bytes.end());
}

// A spec whose options area is exactly `raw` (no END added, no zero padding
// after it unless `pad`).
FrameSpec RawOptions(std::vector<uint8_t> raw, bool pad = false) {
  FrameSpec spec;
  spec.end_option = false;
  spec.raw_options_tail = std::move(raw);
  if (!pad) spec.pad_bootp_to = 0;
  return spec;
}

TEST(DhcpOptionsTest, FindsOptionsAndTheirValues) {
  FrameSpec spec;
  spec.options = {MessageTypeOpt(1), Opt(60, "PXEClient"), Opt(94, {1, 3, 0})};
  Indexed m(spec);
  ASSERT_EQ(m.result, DropReason::kNone);
  EXPECT_TRUE(m.index.Has(53));
  EXPECT_EQ(Vec(m.index.First(53)), (std::vector<uint8_t>{1}));
  EXPECT_EQ(Str(m.index.First(60)), "PXEClient");
  EXPECT_EQ(Vec(m.index.First(94)), (std::vector<uint8_t>{1, 3, 0}));
  EXPECT_EQ(m.index.TotalLength(60), 9u);
  EXPECT_FALSE(m.index.Has(97));
  EXPECT_TRUE(m.index.First(97).empty());
  EXPECT_EQ(m.index.TotalLength(97), 0u);
  EXPECT_FALSE(m.index.truncated());
  EXPECT_FALSE(m.index.overloaded_file());
  EXPECT_FALSE(m.index.overloaded_sname());
}

TEST(DhcpOptionsTest, SingleValueIsReturnedInPlace) {
  FrameSpec spec;
  spec.options = {Opt(60, "PXEClient")};
  Indexed m(spec);
  // One occurrence needs no scratch at all, and points into the message.
  std::span<const uint8_t> value = m.index.Get(60, {});
  EXPECT_EQ(Str(value), "PXEClient");
  EXPECT_EQ(value.data(), m.frame.data() + 42 + 240 + 2);
}

TEST(DhcpOptionsTest, PadBytesAreSkipped) {
  Indexed m(RawOptions(
      {0, 0, 53, 1, 1, 0, 60, 3, 'a', 'b', 'c', 0, 0, 0, 77, 1, 'x', 255}));
  ASSERT_EQ(m.result, DropReason::kNone);
  EXPECT_EQ(Vec(m.index.First(53)), (std::vector<uint8_t>{1}));
  EXPECT_EQ(Str(m.index.First(60)), "abc");
  EXPECT_EQ(Str(m.index.First(77)), "x");
  EXPECT_FALSE(m.index.Has(0));
  EXPECT_FALSE(m.index.Has(255));
  EXPECT_FALSE(m.index.truncated());
}

TEST(DhcpOptionsTest, NothingAfterEndIsRead) {
  // What follows END is padding or garbage, even if it looks like options.
  Indexed m(RawOptions({53, 1, 1, 255, 60, 9, 'P', 'X', 'E', 'C', 'l', 'i', 'e',
                        'n', 't', 61, 200}));
  ASSERT_EQ(m.result, DropReason::kNone);
  EXPECT_TRUE(m.index.Has(53));
  EXPECT_FALSE(m.index.Has(60));
  EXPECT_FALSE(m.index.Has(61));
  EXPECT_FALSE(m.index.truncated());
}

TEST(DhcpOptionsTest, EmptyOptionsAreaIsFine) {
  Indexed m(RawOptions({}));
  ASSERT_EQ(m.result, DropReason::kNone);
  EXPECT_FALSE(m.index.Has(53));
  EXPECT_FALSE(m.index.truncated());
}

TEST(DhcpOptionsTest, ZeroLengthOptionIsPresentAndEmpty) {
  FrameSpec spec;
  spec.options = {Opt(77, std::initializer_list<uint8_t>{}), MessageTypeOpt(3)};
  Indexed m(spec);
  EXPECT_TRUE(m.index.Has(77));
  EXPECT_TRUE(m.index.First(77).empty());
  EXPECT_EQ(m.index.TotalLength(77), 0u);
  EXPECT_EQ(Vec(m.index.First(53)), (std::vector<uint8_t>{3}));
}

TEST(DhcpOptionsTest, RepeatedOptionsAreConcatenated) {
  // RFC 3396 §7: the parts, in order, form one value, even with other
  // options between them.
  FrameSpec spec;
  spec.options = {Opt(60, "PXE"), MessageTypeOpt(1), Opt(60, "Client:Arch:"),
                  Opt(93, {0, 7}), Opt(60, "00007")};
  Indexed m(spec);
  ASSERT_EQ(m.result, DropReason::kNone);
  std::array<uint8_t, 64> scratch{};
  EXPECT_EQ(Str(m.index.Get(60, scratch)), "PXEClient:Arch:00007");
  EXPECT_EQ(Str(m.index.First(60)), "PXE");
  EXPECT_EQ(m.index.TotalLength(60), 20u);
  EXPECT_EQ(Vec(m.index.Get(93, scratch)), (std::vector<uint8_t>{0, 7}));
}

TEST(DhcpOptionsTest, ConcatenationBeyondScratchIsEmpty) {
  FrameSpec spec;
  spec.options = {Opt(97, std::string(200, 'a')),
                  Opt(97, std::string(60, 'b'))};
  Indexed m(spec);
  ASSERT_EQ(m.index.TotalLength(97), 260u);
  std::vector<uint8_t> exact(260);
  const std::string expected = std::string(200, 'a') + std::string(60, 'b');
  EXPECT_EQ(Str(m.index.Get(97, exact)), expected);
  std::vector<uint8_t> short_by_one(259);
  EXPECT_TRUE(m.index.Get(97, short_by_one).empty());
  std::vector<uint8_t> first_part_only(200);
  EXPECT_TRUE(m.index.Get(97, first_part_only).empty());
  EXPECT_TRUE(m.index.Get(97, {}).empty());
  // Absent is empty whatever the scratch.
  EXPECT_TRUE(m.index.Get(60, exact).empty());
}

TEST(DhcpOptionsTest, RelayAgentInformationOf300BytesIsOneValue) {
  // RFC 3396 as a relay agent does it: option 82 of 300 bytes as 255 + 45,
  // here with another option between the two instances.
  std::vector<uint8_t> value(300);
  for (size_t i = 0; i < value.size(); ++i) {
    value[i] = static_cast<uint8_t>(i * 13 + 1);
  }
  FrameSpec spec;
  spec.options = {
      MessageTypeOpt(1), DhcpOption{82, {value.begin(), value.begin() + 255}},
      Opt(60, "PXEClient"), DhcpOption{82, {value.begin() + 255, value.end()}}};
  Indexed m(spec);
  ASSERT_EQ(m.result, DropReason::kNone);
  EXPECT_EQ(m.index.First(82).size(), 255u);
  EXPECT_EQ(m.index.TotalLength(82), 300u);
  std::vector<uint8_t> scratch(300);
  EXPECT_EQ(Vec(m.index.Get(82, scratch)), value);
  std::vector<uint8_t> short_by_one(299);
  EXPECT_TRUE(m.index.Get(82, short_by_one).empty());
  EXPECT_EQ(Str(m.index.First(60)), "PXEClient");
}

TEST(DhcpOptionsTest, InstancesInFileAndSnameFollowTheOptionsField) {
  // RFC 3396 §6: options field, then file, then sname.
  FrameSpec spec;
  spec.options = {Opt(82, {1, 6, 'G', 'i'}), Opt(52, {3}), MessageTypeOpt(1)};
  spec.file = EncodeOptions({Opt(82, {'1', '/', '0'})}, true);
  spec.sname = EncodeOptions({Opt(82, {'/', '7', 2, 1, 9})}, true);
  Indexed m(spec);
  ASSERT_EQ(m.result, DropReason::kNone);
  std::array<uint8_t, 16> scratch{};
  EXPECT_EQ(
      Vec(m.index.Get(82, scratch)),
      (std::vector<uint8_t>{1, 6, 'G', 'i', '1', '/', '0', '/', '7', 2, 1, 9}));
}

TEST(DhcpOptionsTest, AnyOptionMayRepeat) {
  // Every code but PAD, END and 52 (read from its first instance only):
  // three instances, one empty, concatenated; a scratch one byte short
  // gives nothing, and nothing is read or written outside the buffers.
  for (int code = 1; code < 255; ++code) {
    if (code == dhcp::kOverload) continue;
    SCOPED_TRACE(::testing::Message() << "option " << code);
    const auto c = static_cast<uint8_t>(code);
    FrameSpec spec;
    spec.options = {DhcpOption{c, std::vector<uint8_t>(255, c)},
                    Opt(c, std::initializer_list<uint8_t>{}),
                    DhcpOption{c, std::vector<uint8_t>(7, 0xEE)}};
    Indexed m(spec);
    ASSERT_EQ(m.result, DropReason::kNone);
    ASSERT_EQ(m.index.TotalLength(c), 262u);
    std::vector<uint8_t> exact(262);
    std::span<const uint8_t> all = m.index.Get(c, exact);
    ASSERT_EQ(all.size(), 262u);
    EXPECT_EQ(all[254], c);
    EXPECT_EQ(all[255], 0xEE);
    std::vector<uint8_t> short_by_one(261);
    EXPECT_TRUE(m.index.Get(c, short_by_one).empty());
  }
}

TEST(DhcpOptionsTest, LongestSingleOptionIsRead) {
  std::vector<uint8_t> value(255);
  for (size_t i = 0; i < value.size(); ++i) value[i] = static_cast<uint8_t>(i);
  FrameSpec spec;
  spec.options = {DhcpOption{43, value}, MessageTypeOpt(1), Opt(60, "PXE")};
  Indexed m(spec);
  ASSERT_EQ(m.result, DropReason::kNone);
  EXPECT_EQ(Vec(m.index.First(43)), value);
  EXPECT_EQ(m.index.TotalLength(43), 255u);
  // The next options are found after it.
  EXPECT_EQ(Vec(m.index.First(53)), (std::vector<uint8_t>{1}));
  EXPECT_EQ(Str(m.index.First(60)), "PXE");
}

TEST(DhcpOptionsTest, OverloadFileHoldsMoreOptions) {
  FrameSpec spec;
  spec.options = {MessageTypeOpt(1), Opt(52, {1})};
  spec.file = EncodeOptions({Opt(60, "PXEClient"), Opt(93, {0, 7})}, true);
  spec.sname = EncodeOptions({Opt(77, "iPXE")}, true);
  Indexed m(spec);
  ASSERT_EQ(m.result, DropReason::kNone);
  EXPECT_TRUE(m.index.overloaded_file());
  EXPECT_FALSE(m.index.overloaded_sname());
  EXPECT_EQ(Str(m.index.First(60)), "PXEClient");
  EXPECT_EQ(Vec(m.index.First(93)), (std::vector<uint8_t>{0, 7}));
  EXPECT_FALSE(m.index.Has(77));  // sname is not overloaded
}

TEST(DhcpOptionsTest, OverloadSnameHoldsMoreOptions) {
  FrameSpec spec;
  spec.options = {MessageTypeOpt(1), Opt(52, {2})};
  spec.file = EncodeOptions({Opt(60, "PXEClient")}, true);
  spec.sname = EncodeOptions({Opt(77, "iPXE")}, true);
  Indexed m(spec);
  ASSERT_EQ(m.result, DropReason::kNone);
  EXPECT_FALSE(m.index.overloaded_file());
  EXPECT_TRUE(m.index.overloaded_sname());
  EXPECT_EQ(Str(m.index.First(77)), "iPXE");
  EXPECT_FALSE(m.index.Has(60));  // file is not overloaded
}

TEST(DhcpOptionsTest, OverloadBothReadsFileBeforeSname) {
  // RFC 3396 §6: a split option is concatenated in the order options field,
  // file, sname.
  FrameSpec spec;
  spec.options = {Opt(60, "PXE"), Opt(52, {3}), MessageTypeOpt(1)};
  spec.file = EncodeOptions({Opt(60, "Client:"), Opt(94, {1, 2, 1})}, true);
  spec.sname = EncodeOptions({Opt(60, "Arch:00007")}, true);
  Indexed m(spec);
  ASSERT_EQ(m.result, DropReason::kNone);
  EXPECT_TRUE(m.index.overloaded_file());
  EXPECT_TRUE(m.index.overloaded_sname());
  std::array<uint8_t, 256> scratch{};
  EXPECT_EQ(Str(m.index.Get(60, scratch)), "PXEClient:Arch:00007");
  EXPECT_EQ(Str(m.index.First(60)), "PXE");
  EXPECT_EQ(m.index.TotalLength(60), 20u);
  EXPECT_EQ(Vec(m.index.First(94)), (std::vector<uint8_t>{1, 2, 1}));
}

TEST(DhcpOptionsTest, WithoutOverloadFileAndSnameAreNotOptions) {
  FrameSpec spec;
  spec.options = {MessageTypeOpt(1)};
  spec.file = EncodeOptions({Opt(60, "PXEClient")}, true);
  spec.sname = EncodeOptions({Opt(77, "iPXE")}, true);
  Indexed m(spec);
  EXPECT_FALSE(m.index.Has(60));
  EXPECT_FALSE(m.index.Has(77));
  EXPECT_FALSE(m.index.overloaded_file());
  EXPECT_FALSE(m.index.overloaded_sname());
}

TEST(DhcpOptionsTest, OverloadInsideFileIsIgnored) {
  // Option 52 in `file` asking for `sname` is not honoured: only the options
  // field may overload, so a message cannot send the parser in circles.
  FrameSpec spec;
  spec.options = {MessageTypeOpt(1), Opt(52, {1})};
  spec.file = EncodeOptions({Opt(52, {3}), Opt(60, "PXEClient")}, true);
  spec.sname = EncodeOptions({Opt(77, "iPXE")}, true);
  Indexed m(spec);
  ASSERT_EQ(m.result, DropReason::kNone);
  EXPECT_EQ(Str(m.index.First(60)), "PXEClient");
  EXPECT_FALSE(m.index.Has(77));
  EXPECT_FALSE(m.index.overloaded_sname());
  EXPECT_EQ(Vec(m.index.First(52)), (std::vector<uint8_t>{1}));
  EXPECT_EQ(m.index.TotalLength(52), 1u);
}

TEST(DhcpOptionsTest, OverloadInsideSnameIsIgnored) {
  FrameSpec spec;
  spec.options = {MessageTypeOpt(1), Opt(52, {2})};
  spec.sname = EncodeOptions({Opt(52, {1}), Opt(77, "iPXE")}, true);
  spec.file = EncodeOptions({Opt(60, "PXEClient")}, true);
  Indexed m(spec);
  ASSERT_EQ(m.result, DropReason::kNone);
  EXPECT_EQ(Str(m.index.First(77)), "iPXE");
  EXPECT_FALSE(m.index.Has(60));
  EXPECT_FALSE(m.index.overloaded_file());
  EXPECT_EQ(m.index.TotalLength(52), 1u);
}

TEST(DhcpOptionsTest, OverloadedAreaWithoutEndStopsAtItsEnd) {
  // A file field full of options with no END: nothing is read past the 128
  // bytes (the cookie follows it), and a last option cut by the field's end
  // is noted as truncated.
  std::vector<uint8_t> file = EncodeOptions({Opt(77, std::string(120, 'i'))},
                                            /*end_option=*/false);
  file.insert(file.end(), {60, 40, 'P', 'X', 'E'});  // cut at byte 128
  ASSERT_EQ(file.size(), 127u);
  file.push_back('C');
  FrameSpec spec;
  spec.options = {MessageTypeOpt(1), Opt(52, {1})};
  spec.file = file;
  Indexed m(spec);
  ASSERT_EQ(m.result, DropReason::kNone);
  EXPECT_EQ(m.index.TotalLength(77), 120u);
  EXPECT_FALSE(m.index.Has(60));
  EXPECT_TRUE(m.index.truncated());
}

TEST(DhcpOptionsTest, TruncatedLastOptionIsIgnoredEarlierOnesKept) {
  Indexed m(RawOptions({53, 1, 1, 93, 2, 0, 7, 60, 9, 'P', 'X', 'E'}));
  ASSERT_EQ(m.result, DropReason::kNone);
  EXPECT_TRUE(m.index.truncated());
  EXPECT_EQ(Vec(m.index.First(53)), (std::vector<uint8_t>{1}));
  EXPECT_EQ(Vec(m.index.First(93)), (std::vector<uint8_t>{0, 7}));
  EXPECT_FALSE(m.index.Has(60));
}

TEST(DhcpOptionsTest, LastOptionWithoutLengthByteIsTruncated) {
  Indexed m(RawOptions({53, 1, 3, 60}));
  ASSERT_EQ(m.result, DropReason::kNone);
  EXPECT_TRUE(m.index.truncated());
  EXPECT_TRUE(m.index.Has(53));
  EXPECT_FALSE(m.index.Has(60));
}

TEST(DhcpOptionsTest, MissingEndIsAccepted) {
  Indexed m(RawOptions(
      {53, 1, 1, 60, 9, 'P', 'X', 'E', 'C', 'l', 'i', 'e', 'n', 't'}));
  ASSERT_EQ(m.result, DropReason::kNone);
  EXPECT_FALSE(m.index.truncated());
  EXPECT_EQ(Str(m.index.First(60)), "PXEClient");
}

TEST(DhcpOptionsTest, MissingEndFollowedByPaddingIsAccepted) {
  Indexed m(RawOptions({53, 1, 1, 77, 4, 'i', 'P', 'X', 'E'}, /*pad=*/true));
  ASSERT_EQ(m.result, DropReason::kNone);
  EXPECT_FALSE(m.index.truncated());
  EXPECT_EQ(Str(m.index.First(77)), "iPXE");
}

TEST(DhcpOptionsTest, ExactlyMaxOccurrencesFit) {
  FrameSpec spec;
  for (size_t i = 0; i < OptionIndex::kMaxOccurrences; ++i) {
    spec.options.push_back(Opt(77, {static_cast<uint8_t>(i)}));
  }
  Indexed m(spec);
  ASSERT_EQ(m.result, DropReason::kNone);
  EXPECT_EQ(m.index.TotalLength(77), OptionIndex::kMaxOccurrences);
  std::array<uint8_t, OptionIndex::kMaxOccurrences> scratch{};
  std::span<const uint8_t> all = m.index.Get(77, scratch);
  ASSERT_EQ(all.size(), OptionIndex::kMaxOccurrences);
  for (size_t i = 0; i < all.size(); ++i) {
    EXPECT_EQ(all[i], i);
  }
}

TEST(DhcpOptionsTest, MoreThanMaxOccurrencesIsTooMany) {
  FrameSpec spec;
  for (size_t i = 0; i <= OptionIndex::kMaxOccurrences; ++i) {
    spec.options.push_back(Opt(static_cast<uint8_t>(100 + i % 50), {1}));
  }
  Indexed m(spec);
  EXPECT_EQ(m.result, DropReason::kTooManyOptions);
}

TEST(DhcpOptionsTest, TooManyCountsOptionsInOverloadedAreas) {
  FrameSpec spec;
  spec.options = {Opt(52, {3})};
  for (size_t i = 0; i < OptionIndex::kMaxOccurrences - 40; ++i) {
    spec.options.push_back(Opt(77, {1}));
  }
  // 41 more two-byte options: 20 in sname (64 bytes), 21 in file.
  std::vector<DhcpOption> in_sname(20,
                                   Opt(80, std::initializer_list<uint8_t>{}));
  std::vector<DhcpOption> in_file(21,
                                  Opt(81, std::initializer_list<uint8_t>{}));
  spec.sname = EncodeOptions(in_sname, true);
  spec.file = EncodeOptions(in_file, true);
  Indexed m(spec);
  EXPECT_EQ(m.result, DropReason::kTooManyOptions);
}

TEST(DhcpOptionsTest, ReparsingForgetsThePreviousMessage) {
  FrameSpec first;
  first.options = {Opt(60, "PXE"), Opt(52, {1}), Opt(60, "Client")};
  first.file = EncodeOptions({Opt(97, {0, 1})}, false);
  first.raw_options_tail = {77, 10, 'i'};
  first.end_option = false;
  first.pad_bootp_to = 0;
  FrameSpec second;
  second.options = {MessageTypeOpt(1)};
  Indexed a(first);
  Indexed b(second);
  ASSERT_TRUE(a.index.truncated());
  ASSERT_TRUE(a.index.overloaded_file());
  // One index reused for both messages, as a worker does.
  auto index = std::make_unique<OptionIndex>();
  ASSERT_EQ(index->Parse(a.bootp), DropReason::kNone);
  ASSERT_TRUE(index->Has(60));
  ASSERT_EQ(index->Parse(b.bootp), DropReason::kNone);
  EXPECT_FALSE(index->Has(60));
  EXPECT_FALSE(index->Has(97));
  EXPECT_FALSE(index->Has(52));
  EXPECT_EQ(index->TotalLength(60), 0u);
  EXPECT_FALSE(index->truncated());
  EXPECT_FALSE(index->overloaded_file());
  EXPECT_TRUE(index->Has(53));
}

TEST(DhcpOptionsTest, EveryCutOfTheOptionsAreaStaysInside) {
  // The options area cut at every length, in a buffer of exactly that size,
  // so AddressSanitizer sees any read past the end.
  FrameSpec spec;
  spec.options = {MessageTypeOpt(1), Opt(60, "PXEClient:Arch:00007"),
                  Opt(93, {0, 7}), Opt(52, {3})};
  const std::vector<uint8_t> frame = BuildFrame(spec);
  const std::vector<uint8_t> bootp(frame.begin() + 42, frame.end());
  for (size_t size = bootp::kOptions; size <= bootp.size(); ++size) {
    SCOPED_TRACE(::testing::Message() << "BOOTP size " << size);
    const std::vector<uint8_t> cut(bootp.begin(), bootp.begin() + size);
    BootpView view;
    ASSERT_EQ(BootpView::Parse(cut, &view), DropReason::kNone);
    OptionIndex index;
    ASSERT_EQ(index.Parse(view), DropReason::kNone);
    // 53 is whole from 243 bytes on, 60 from 265.
    EXPECT_EQ(index.Has(53), size >= 243);
    EXPECT_EQ(index.Has(60), size >= 265);
    EXPECT_EQ(index.truncated(),
              (size > 240 && size < 243) || (size > 243 && size < 265) ||
                  (size > 265 && size < 269) || (size > 269 && size < 272));
  }
}

}  // namespace
}  // namespace pxe
