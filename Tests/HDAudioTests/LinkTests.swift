import Testing
import HDAudio

@Suite("Link cadence")
struct LinkCadenceTests {
    @Test("One second of link time carries exactly `rate` blocks, for every legal rate",
          arguments: RateEncoding.allRates)
    func oneSecond(rate: UInt32) {
        let cadence = LinkCadence(RateEncoding(rate: rate)!)
        #expect(cadence.blocks(inFrames: 0..<48_000) == UInt64(rate))
        #expect(cadence.blocks(inFrames: 48_000..<96_000) == UInt64(rate))
    }

    @Test("44.1 kHz carries exactly 147 blocks in every 160 frames, at any starting frame")
    func fortyFourOneWindow() {
        let cadence = LinkCadence(RateEncoding(rate: 44100)!)
        for start in UInt64(0)..<480 {
            #expect(cadence.blocks(inFrames: start..<(start + 160)) == 147, "window at \(start)")
        }
    }

    @Test("44.1 kHz runs are 12-11-11-12-11-11-12-11-11-12-11-11-11 frames, each followed by an empty frame")
    func fortyFourOneRuns() {
        let cadence = LinkCadence(RateEncoding(rate: 44100)!)
        var runs: [Int] = []
        var current = 0
        for frame in UInt64(160)..<320 {
            let blocks = cadence.blocks(inFrame: frame)
            #expect(blocks == 0 || blocks == 1)
            if blocks == 1 { current += 1 } else { runs.append(current); current = 0 }
        }
        #expect(runs == [12, 11, 11, 12, 11, 11, 12, 11, 11, 12, 11, 11, 11])
    }

    @Test("x2 and x4 rates of 44.1 kHz carry 2 or 4 blocks in each non-empty frame")
    func fortyFourOneMultiples() {
        for (rate, per): (UInt32, Int) in [(88200, 2), (176_400, 4)] {
            let cadence = LinkCadence(RateEncoding(rate: rate)!)
            for frame in UInt64(0)..<160 { #expect([0, per].contains(cadence.blocks(inFrame: frame))) }
        }
    }

    @Test("48 kHz family: m/d per frame, one block every d frames, 2 in 3 at 32 kHz")
    func fortyEightFamily() {
        let c48 = LinkCadence(RateEncoding(rate: 48000)!)
        let c192 = LinkCadence(RateEncoding(rate: 192_000)!)
        let c8 = LinkCadence(RateEncoding(rate: 8000)!)
        let c32 = LinkCadence(RateEncoding(rate: 32000)!)
        for frame in UInt64(0)..<60 {
            #expect(c48.blocks(inFrame: frame) == 1)
            #expect(c192.blocks(inFrame: frame) == 4)
            #expect(c8.blocks(inFrame: frame) == (frame % 6 == 0 ? 1 : 0))
        }
        for start in UInt64(0)..<30 { #expect(c32.blocks(inFrames: start..<(start + 3)) == 2) }
    }

    @Test("Range counts equal the sum of per-frame counts, and no frame exceeds the peak", arguments: RateEncoding.allRates)
    func rangesMatchFrames(rate: UInt32) {
        let cadence = LinkCadence(RateEncoding(rate: rate)!)
        var sum: UInt64 = 0
        var peak = 0
        for frame in UInt64(1000)..<1960 {
            let n = cadence.blocks(inFrame: frame)
            sum += UInt64(n)
            peak = max(peak, n)
        }
        #expect(cadence.blocks(inFrames: 1000..<1960) == sum)
        #expect(peak == cadence.peakBlocksPerFrame)
    }

    @Test("frame(after:carrying:) finds the first frame by which the blocks are carried, for every rate, near and far")
    func eventJump() {
        for rate in RateEncoding.allRates {
            let cadence = LinkCadence(RateEncoding(rate: rate)!)
            for start: UInt64 in [0, 1, 7, 159, 160, 161, 1234, 48_000 * 3600 + 17] {
                for count: UInt64 in [1, 2, 3, 50, 146, 147, 148, 1000, 16_384] {
                    let end = cadence.frame(after: start, carrying: count)
                    #expect(cadence.blocks(inFrames: start..<end) >= count)
                    #expect(end == start || cadence.blocks(inFrames: start..<(end - 1)) < count)
                }
            }
        }
    }

    @Test("Far frames count in O(1) without overflow")
    func farFrames() {
        let cadence = LinkCadence(RateEncoding(rate: 44100)!)
        let day: UInt64 = 48_000 * 86_400
        #expect(cadence.blocks(before: day) == 44_100 * 86_400)
    }
}

@Suite("Link budget arithmetic")
struct LinkBudgetTests {
    @Test("48 kHz 16-bit stereo: 32 bits out, 42 bits in, 2 FIFO words")
    func cdQuality() throws {
        let f = StreamFormat(rate: 48000, bits: 16, channels: 2)
        #expect(try LinkBudget.outputCost(f) == 32)
        #expect(try LinkBudget.inputCost(f) == 42)
        #expect(try LinkBudget.fifoWords(f) == 2)
    }

    @Test("192 kHz 32-bit 8 channels exceeds one SDO line and the default output FIFO")
    func heavyStream() throws {
        let f = StreamFormat(rate: 192_000, bits: 32, channels: 8)
        #expect(try LinkBudget.outputCost(f) == 1024)
        #expect(try LinkBudget.outputCost(f) > LinkBudget.sdoLineBudget(outpay: 0x3C))
        #expect(try LinkBudget.outputChargePerLine(f, stripeLines: 2) == 512)
        #expect(try LinkBudget.outputChargePerLine(f, stripeLines: 4) == 256)
        #expect(try LinkBudget.fifoWords(f) == 64)
        #expect(try LinkBudget.fifoWords(f) > 0x30)
    }

    @Test("Striping rounds each line's share up")
    func stripeRoundsUp() throws {
        // 44.1 kHz x1, 20-bit, 3 channels: 60 bits; over 4 lines 15 each; 8-bit mono 48 kHz: 8 bits, 4 lines -> 2.
        #expect(try LinkBudget.outputChargePerLine(StreamFormat(rate: 44100, bits: 20, channels: 3), stripeLines: 4) == 15)
        #expect(try LinkBudget.outputChargePerLine(StreamFormat(rate: 48000, bits: 8, channels: 1), stripeLines: 4) == 2)
        #expect(try LinkBudget.outputChargePerLine(StreamFormat(rate: 48000, bits: 20, channels: 1), stripeLines: 4) == 5)
        #expect(try LinkBudget.outputChargePerLine(StreamFormat(rate: 48000, bits: 20, channels: 1), stripeLines: 2) == 10)
        #expect(try LinkBudget.outputChargePerLine(StreamFormat(rate: 8000, bits: 20, channels: 3), stripeLines: 4) == 15)
    }

    @Test("Input cost pads the payload to whole bytes and adds the 10-bit header")
    func inputPadding() throws {
        // 48k, 20-bit, 3 ch = 60 bits -> 8 bytes = 64, + 10.
        #expect(try LinkBudget.inputCost(StreamFormat(rate: 48000, bits: 20, channels: 3)) == 74)
        // 96k, 24-bit, 2 ch: 2 blocks x 48 = 96 bits -> 96, + 10.
        #expect(try LinkBudget.inputCost(StreamFormat(rate: 96000, bits: 24, channels: 2)) == 106)
        // Default INPAY 0x1D = 464 bits: 48k/16 with 14 channels fits (10 + 224), 192k/16/8 does not (10 + 512).
        #expect(try LinkBudget.inputCost(StreamFormat(rate: 192_000, bits: 16, channels: 8)) == 522)
        #expect(LinkBudget.sdiLineBudget(inpay: 0x1D) == 464)
    }

    @Test("FIFO words count containers, not valid bits, and round up to words")
    func fifoWords() throws {
        #expect(try LinkBudget.fifoWords(StreamFormat(rate: 48000, bits: 24, channels: 2)) == 4)
        #expect(try LinkBudget.fifoWords(StreamFormat(rate: 48000, bits: 8, channels: 3)) == 2)
        #expect(try LinkBudget.fifoWords(StreamFormat(rate: 88200, bits: 16, channels: 2)) == 4)
    }

    @Test("Budgets of an invalid format are STATUS_INVALID_PARAMETER")
    func invalidFormat() {
        #expect(throws: NTStatus.invalidParameter) { try LinkBudget.outputCost(StreamFormat(rate: 7000, bits: 16, channels: 2)) }
    }
}

@Suite("Register vocabulary")
struct RegisterVocabularyTests {
    @Test("GCAP decodes the ICH6 and Skylake values of the reference")
    func gcapDecode() {
        let ich6 = GlobalCapabilities(rawValue: 0x4401)
        #expect(ich6.outputEngines == 4 && ich6.inputEngines == 4 && ich6.bidirectionalEngines == 0)
        #expect(ich6.sdoLines == 1 && ich6.supports64Bit)
        let skl = GlobalCapabilities(rawValue: 0x9701)
        #expect(skl.outputEngines == 9 && skl.inputEngines == 7 && skl.totalEngines == 16)
        let built = GlobalCapabilities(outputEngines: 4, inputEngines: 4, bidirectionalEngines: 2, sdoLines: 4, supports64Bit: true)
        #expect(built.rawValue == 0x4415)
        #expect(built.sdoLines == 4 && built.bidirectionalEngines == 2)
    }

    @Test("Descriptors: inputs first, then outputs, then bidirectional, 0x20 apart from 0x80")
    func descriptorLayout() {
        let layout = EngineLayout(GlobalCapabilities(outputEngines: 4, inputEngines: 3, bidirectionalEngines: 2, sdoLines: 1, supports64Bit: true))
        #expect(layout.indices(of: .input) == 0..<3)
        #expect(layout.indices(of: .output) == 3..<7)
        #expect(layout.indices(of: .bidirectional) == 7..<9)
        #expect(layout.kind(of: 3) == .output && layout.kind(of: 8) == .bidirectional)
        #expect(HDARegister.streamDescriptor(4) == 0x100)
        #expect(HDARegister.lpibAlias(1) == 0x20A4)
    }

    @Test("SDnCTL fields land on their bits")
    func streamControlFields() {
        var ctl = StreamControl(rawValue: 0)
        ctl.streamTag = 0xA
        ctl.stripe = .fourLines
        ctl.directionOutput = true
        ctl.run = true
        #expect(ctl.rawValue == 0xA0_0000 | 0x2_0000 | 0x8_0000 | 0x2)
        ctl.run = false
        #expect(ctl.rawValue & 2 == 0 && ctl.streamTag == 0xA && ctl.stripe.lineCount == 4)
        #expect(StreamControl(rawValue: 0xFFFF_FFFF).rawValue == 0xFF_FFFF)
    }

    @Test("A bit field extracts, inserts and projects onto an enum, leaving the other bits alone")
    func bitField() {
        let field = BitField<UInt32>(bits: 16..<18)
        #expect(field.mask == 0x3_0000 && field.maxValue == 3 && field.width == 2)
        #expect(field.extract(0xFFFE_FFFF) == 2)
        #expect(field.inserting(1, into: 0xFFFF_FFFF) == 0xFFFD_FFFF)
        #expect(field.inserting(7, into: 0) == 0x3_0000, "bits above the field are dropped")
        #expect(field.extract(0x2_0000, as: StripeControl.self) == .fourLines)
        #expect(field.extract(0x3_0000, as: StripeControl.self) == nil, "a value the enum does not name")
        #expect(field.inserting(StripeControl.twoLines, into: 0x3_0000) == 0x1_0000)
        let top = BitField<UInt16>(bits: 0..<16)
        #expect(top.mask == 0xFFFF && top.extract(0xABCD) == 0xABCD)
        let pointer = BitField<UInt16>(bits: 0..<8)
        #expect(pointer.extract(word: UInt32(0x8123)) == 0x23 && pointer.inserting(word: UInt32(5), into: 0x8123) == 0x8105)
        #expect(BitField<UInt8>(bit: 2).isSet(in: 0x4) && !BitField<UInt8>(bit: 2).isSet(inWord: UInt32(0x3)))
    }

    @Test("The register fields are the specification's bits")
    func registerFields() {
        #expect(StreamControl.streamTagField.mask == 0xF0_0000 && StreamControl.streamByte.mask == 0xFF_0000)
        #expect(StreamControl.writable(kind: .input, sdoLines: 4) == 0xF4_001F)
        #expect(StreamControl.writable(kind: .output, sdoLines: 1) == 0xF4_001F)
        #expect(StreamControl.writable(kind: .output, sdoLines: 2) == 0xF5_001F)
        #expect(StreamControl.writable(kind: .bidirectional, sdoLines: 4) == 0xFF_001F)
        #expect(ConverterFormat.writable == 0xFF7F && SDILines.mask == 0x7FFF)
        #expect(RingSize.resetValue == 0x72 && RingSize.entries(0x73) == 256 && RingSize.sixteen.entries == 16)
        #expect(RingSize.entries(0x70) == 2 && RingSize.entries(0x71) == 16 && RingSize.entries(0x72) == 256)
        #expect(RingSize.allCases.map(\.entries) == [2, 16, 256])
        #expect(BaseAddressLow.address.mask == 0xFFFF_FF80 && FIFOWatermark.field.mask == 0x7)
        #expect(CorbEntry.codecAddress.extract(0x2F00_0000) == 2 && RirbEntry.unsolicited.mask == 0x10)
        #expect(CorbReadPointer.pointer.mask == 0xFF && RirbWritePointer.pointer.mask == 0xFF)
    }

    @Test("The register map: global registers in offset order without overlap, descriptor registers inside their stride, aliases on the alias page")
    func registerMap() {
        let globals = HDARegister.globalRegisters
        for (a, b) in zip(globals, globals.dropFirst()) {
            #expect(a.offset + UInt32(a.width) <= b.offset, "\(a) overlaps \(b)")
        }
        #expect(globals.last!.offset + UInt32(globals.last!.width) <= HDARegister.streamDescriptorBase)
        #expect(HDARegister.globalRegister(at: 0x4D)?.name == "CORBSTS" && HDARegister.globalRegister(at: 0x5D)?.name == "RIRBSTS")
        #expect(HDARegister.globalRegister(at: 0x34)?.name == "SSYNC" && HDARegister.globalRegister(at: 0x38)?.width == 4)
        #expect(HDARegister.globalRegister(at: 0x01) == nil)
        let sd = HDARegister.descriptorRegisters
        for (a, b) in zip(sd, sd.dropFirst()) { #expect(a.offset + UInt32(a.width) <= b.offset, "\(a.name) overlaps \(b.name)") }
        #expect(sd.last!.offset + UInt32(sd.last!.width) <= HDARegister.streamDescriptorStride)
        let ctl3 = HDARegister.descriptorRegister(at: HDARegister.SD.ctl)!(3)
        #expect(ctl3 == MMIORegister("SD3CTL", 0xE0, width: 3) && ctl3.description == "SD3CTL @0x0E0/3")
        #expect(HDARegister.walclkAliasRegister.offset == 0x2030 && HDARegister.lpibAliasRegister(2).offset == 0x20C4)
    }

    @Test("BDL entries encode as 16 little-endian bytes and decode back")
    func bdlEntry() {
        let entry = BDLEntry(address: 0x1_2345_6780, length: 0x1000, interruptOnCompletion: true)
        let bytes = entry.bytes
        #expect(bytes.count == 16)
        #expect(Array(bytes[0..<8]) == [0x80, 0x67, 0x45, 0x23, 0x01, 0, 0, 0])
        #expect(Array(bytes[8..<12]) == [0, 0x10, 0, 0])
        #expect(bytes[12] == 1)
        #expect(BDLEntry(bytes: bytes) == entry)
    }

    @Test("Microseconds and frames convert at 48 kHz")
    func timing() {
        #expect(LinkTiming.frames(microseconds: 300) == 15)
        #expect(LinkTiming.frames(microseconds: 521) == 26)
        #expect(LinkTiming.microseconds(frames: 48_000) == 1_000_000)
    }
}
