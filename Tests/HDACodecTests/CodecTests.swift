import Foundation
import Testing
import TestSupport
import HDAudio
@testable import HDACodec

/// Builds a CORB entry the way the specification lays it out: 12-bit verb, 8-bit payload.
func verb(_ codec: UInt32, _ node: UInt32, _ id: UInt32, _ payload: UInt32 = 0) -> UInt32 {
    codec << 28 | node << 20 | id << 8 | payload
}

/// A CORB entry with a 4-bit verb and a 16-bit payload.
func shortVerb(_ codec: UInt32, _ node: UInt32, _ id: UInt32, _ payload: UInt32) -> UInt32 {
    codec << 28 | node << 20 | id << 16 | payload
}

extension VirtualCodec {
    /// Sends a verb and requires an answer.
    func ask(_ v: UInt32) -> UInt32 { linkCommand(v) ?? 0xDEAD_BEEF }
    /// GET_PARAMETER on a node.
    func param(_ node: UInt8, _ id: UInt32) -> UInt32 { ask(verb(UInt32(address), UInt32(node), 0xF00, id)) }
}

@Suite("Codec verbs")
struct CodecVerbTests {
    @Test("The root node answers vendor id, revision id and one function group at node 1")
    func root() {
        let codec = VirtualCodec(address: 2)
        #expect(codec.param(0, 0x00) == codec.configuration.vendorID)
        #expect(codec.param(0, 0x02) == 0x0010_0100)
        #expect(codec.param(0, 0x04) == 0x0001_0001)
    }

    @Test("The audio function group names its type, its widgets and the PCM it takes")
    func functionGroup() {
        let codec = VirtualCodec()
        #expect(codec.param(1, 0x05) & 0xFF == 0x01)
        #expect(codec.param(1, 0x05) & 0x100 != 0)
        // 4 DACs + 4 ADCs + 8 pins, starting at node 2.
        #expect(codec.param(1, 0x04) == 2 << 16 | 16)
        // Every standard rate bit but 384 kHz (bit 11: 48 kHz x 4 is the link's top rate),
        // and every size (bits 16-20).
        #expect(codec.param(1, 0x0A) == 0x001F_07FF)
        #expect(codec.param(1, 0x0B) == 0x1)
        #expect(codec.param(1, 0x0F) & 0xF == 0xF)
    }

    @Test("Converters report their type, 16 channels and a connection list only on ADCs")
    func converterCapabilities() {
        let codec = VirtualCodec()
        let dac = codec.param(codec.dacNodes[0], 0x09), adc = codec.param(codec.adcNodes[0], 0x09)
        #expect((dac >> 20) & 0xF == 0x0)
        #expect((adc >> 20) & 0xF == 0x1)
        for caps in [dac, adc] {
            let channels = (((caps >> 13) & 0x7) << 1 | (caps & 1)) + 1
            #expect(channels == 16)
            #expect(caps & (1 << 4) != 0, "format override")
        }
        #expect(dac & (1 << 8) == 0)
        #expect(adc & (1 << 8) != 0)
        #expect(codec.param(codec.dacNodes[0], 0x0A) == 0x001F_07FF)
        #expect(codec.param(codec.adcNodes[0], 0x0B) == 0x1)
    }

    @Test("Pins report pin complex type, output or input capability and presence detect")
    func pinCapabilities() {
        let codec = VirtualCodec()
        let out = codec.outputPinNodes[0], inp = codec.inputPinNodes[0]
        #expect((codec.param(out, 0x09) >> 20) & 0xF == 0x4)
        #expect((codec.param(inp, 0x09) >> 20) & 0xF == 0x4)
        #expect(codec.param(out, 0x09) & (1 << 7) != 0, "unsolicited capable")
        #expect(codec.param(out, 0x0C) & (1 << 4) != 0)
        #expect(codec.param(out, 0x0C) & (1 << 5) == 0)
        #expect(codec.param(inp, 0x0C) & (1 << 5) != 0)
        #expect(codec.param(inp, 0x0C) & (1 << 2) != 0)
        #expect(codec.param(out, 0x0D) == 0)
        #expect(codec.param(out, 0x12) == 0)
    }

    @Test("Connection lists: output pin i lists DAC i, ADC i lists input pin i")
    func connections() {
        let codec = VirtualCodec()
        for i in 0..<4 {
            #expect(codec.param(codec.outputPinNodes[i], 0x0E) == 1)
            #expect(codec.ask(verb(0, UInt32(codec.outputPinNodes[i]), 0xF02, 0)) == UInt32(codec.dacNodes[i]))
            #expect(codec.param(codec.adcNodes[i], 0x0E) == 1)
            #expect(codec.ask(verb(0, UInt32(codec.adcNodes[i]), 0xF02, 0)) == UInt32(codec.inputPinNodes[i]))
            #expect(codec.ask(verb(0, UInt32(codec.adcNodes[i]), 0xF02, 4)) == 0)
        }
        #expect(codec.param(codec.dacNodes[0], 0x0E) == 0)
    }

    @Test("Set and get converter format use the 4-bit verbs with a 16-bit payload")
    func converterFormat() throws {
        let codec = VirtualCodec()
        let node = UInt32(codec.dacNodes[1])
        let format = try ConverterFormat(StreamFormat(rate: 44100, bits: 16, channels: 2))
        #expect(codec.ask(shortVerb(0, node, 0x2, UInt32(format.rawValue))) == 0)
        #expect(codec.ask(shortVerb(0, node, 0xA, 0)) == 0x4011)
        #expect(codec.converterFormat(node: UInt8(node)) == format)
        // Another converter is untouched.
        #expect(codec.ask(shortVerb(0, UInt32(codec.dacNodes[0]), 0xA, 0)) == 0)
    }

    @Test("Set and get converter stream and channel keep tag in bits 7:4 and channel in 3:0")
    func streamChannel() {
        let codec = VirtualCodec()
        let node = codec.adcNodes[2]
        #expect(codec.ask(verb(0, UInt32(node), 0x706, 0x52)) == 0)
        #expect(codec.ask(verb(0, UInt32(node), 0xF06)) == 0x52)
        #expect(codec.streamTag(node: node) == 5)
    }

    @Test("Set and get pin widget control and power state")
    func pinControlAndPower() {
        let codec = VirtualCodec()
        let pin = UInt32(codec.outputPinNodes[0])
        #expect(codec.ask(verb(0, pin, 0x707, 0xC0)) == 0)
        #expect(codec.ask(verb(0, pin, 0xF07)) == 0xC0)
        #expect(codec.ask(verb(0, 1, 0x705, 0x3)) == 0)
        #expect(codec.ask(verb(0, 1, 0xF05)) == 0x33)
        #expect(codec.ask(verb(0, 1, 0x705, 0x0)) == 0)
        #expect(codec.ask(verb(0, 1, 0xF05)) == 0x00)
    }

    @Test("Unknown verbs, unknown parameters and unknown nodes answer 0")
    func unknownVerbs() {
        let codec = VirtualCodec()
        #expect(codec.ask(verb(0, 1, 0xF7E)) == 0)
        #expect(codec.ask(verb(0, 1, 0x7AB, 0x12)) == 0)
        #expect(codec.param(1, 0x3F) == 0)
        #expect(codec.param(200, 0x00) == 0)
        #expect(codec.ask(shortVerb(0, 0x7F, 0xA, 0)) == 0)
        // Converter-only verbs on a pin do nothing.
        #expect(codec.ask(verb(0, UInt32(codec.outputPinNodes[0]), 0x706, 0x10)) == 0)
        #expect(codec.ask(verb(0, UInt32(codec.outputPinNodes[0]), 0xF06)) == 0)
    }

    @Test("A verb for another codec address gets no answer")
    func otherAddress() {
        let codec = VirtualCodec(address: 3)
        #expect(codec.linkCommand(verb(2, 0, 0xF00, 0)) == nil)
        #expect(codec.linkCommand(verb(3, 0, 0xF00, 0)) == codec.configuration.vendorID)
    }

    @Test("Configured capabilities change the answers: rates, sizes, channels, converter counts")
    func configuredCapabilities() {
        let config = CodecConfiguration(dacCount: 2, adcCount: 1, rates: [44100, 48000, 6000], sampleBits: [16, 24], maxChannels: 6)
        let codec = VirtualCodec(configuration: config)
        // 44.1 kHz is bit 5, 48 kHz bit 6; 6 kHz has no bit. 16-bit is bit 17, 24-bit bit 19.
        #expect(codec.param(1, 0x0A) == (1 << 5 | 1 << 6 | 1 << 17 | 1 << 19))
        #expect(codec.param(1, 0x04) == 2 << 16 | 6)
        let caps = codec.param(codec.dacNodes[0], 0x09)
        #expect((((caps >> 13) & 0x7) << 1 | (caps & 1)) + 1 == 6)
        #expect(codec.dacNodes == [2, 3])
        #expect(codec.adcNodes == [4])
        #expect(codec.outputPinNodes == [5, 6])
        #expect(codec.inputPinNodes == [7])
    }

    @Test("Function group reset and link reset clear converter and pin settings")
    func resets() {
        let codec = VirtualCodec()
        let dac = UInt32(codec.dacNodes[0]), pin = UInt32(codec.outputPinNodes[0])
        _ = codec.ask(verb(0, dac, 0x706, 0x10))
        _ = codec.ask(shortVerb(0, dac, 0x2, 0x11))
        _ = codec.ask(verb(0, pin, 0x707, 0x40))
        _ = codec.ask(verb(0, 1, 0x7FF))
        #expect(codec.ask(verb(0, dac, 0xF06)) == 0)
        #expect(codec.ask(shortVerb(0, dac, 0xA, 0)) == 0)
        #expect(codec.ask(verb(0, pin, 0xF07)) == 0)
        _ = codec.ask(verb(0, dac, 0x706, 0x10))
        codec.linkReset()
        #expect(codec.streamTag(node: UInt8(dac)) == 0)
    }

    @Test("Every verb is reported to the trace with its response")
    func traced() {
        let codec = VirtualCodec()
        var seen: [(UInt32, UInt32?)] = []
        codec.trace = { if case .verb(let v, let r) = $0 { seen.append((v.rawValue, r)) } }
        _ = codec.linkCommand(verb(0, 0, 0xF00, 0))
        _ = codec.linkCommand(verb(1, 0, 0xF00, 0))
        #expect(seen.count == 2)
        #expect(seen[0].1 == codec.configuration.vendorID)
        #expect(seen[1].1 == nil)
    }

    @Test("CodecVerb decodes both verb shapes")
    func verbShapes() {
        let long = CodecVerb(rawValue: shortVerb(3, 0x12, 0x2, 0x4011))
        #expect(long.hasLongPayload && long.codecAddress == 3 && long.node == 0x12 && long.shortVerb == 2 && long.payload16 == 0x4011)
        let short = CodecVerb(rawValue: verb(1, 0x05, 0x706, 0x31))
        #expect(!short.hasLongPayload && short.verb == 0x706 && short.payload8 == 0x31 && short.node == 5)
        #expect(CodecVerb(codec: 1, node: 5, verb: 0x706, payload: 0x31) == short)
        #expect(CodecVerb(codec: 3, node: 0x12, shortVerb: 2, payload: 0x4011) == long)
        #expect(CodecVerb.setFormat(codec: 3, node: 0x12, ConverterFormat(rawValue: 0x4011)) == long)
        #expect(CodecVerb.setStream(codec: 1, node: 5, tag: 3, channel: 1) == short)
        #expect(CodecVerb.getParameter(codec: 0, node: 1, .audioWidgetCapabilities).rawValue == 0x001F_0009)
        #expect(CodecVerb.enableUnsolicited(codec: 2, node: 0x0A, tag: 0x15).rawValue == 0x20A7_0895)
    }


    @Test("Configuration default (GET_CONFIG_DEFAULT 0xF1C) of output pin i carries default association i + 1 in bits 7:4")
    func outputPinAssociations() {
        let codec = VirtualCodec()
        let associations = codec.outputPinNodes.map { (codec.ask(verb(0, UInt32($0), 0xF1C)) >> 4) & 0xF }
        #expect(associations == (1...UInt32(codec.outputPinNodes.count)).map { $0 })
        #expect(Set(associations).count == associations.count)
    }

    @Test("Configuration default fields follow hda_verbs.h: jack, rear, line out green / line in blue, 1/8 inch")
    func configDefaultFields() {
        let codec = VirtualCodec()
        for (pins, device, color) in [(codec.outputPinNodes, UInt32(0x0), UInt32(0x4)), (codec.inputPinNodes, 0x8, 0x3)] {
            for pin in pins {
                let c = codec.ask(verb(0, UInt32(pin), 0xF1C))
                #expect(c >> 30 == 0, "port connectivity: jack")
                #expect((c >> 24) & 0x3F == 0x01, "location: external, rear")
                #expect((c >> 20) & 0xF == device)
                #expect((c >> 16) & 0xF == 0x1, "connection type 1/8 inch")
                #expect((c >> 12) & 0xF == color)
            }
        }
        let inputAssociations = codec.inputPinNodes.map { (codec.ask(verb(0, UInt32($0), 0xF1C)) >> 4) & 0xF }
        #expect(inputAssociations == [8, 9, 10, 11])
    }

    @Test("Widget capabilities, PCM sizes/rates and power state answers use the hda_verbs.h bit positions")
    func parameterBitPositions() {
        let codec = VirtualCodec(configuration: CodecConfiguration(rates: [8000, 44100, 192000], sampleBits: [16, 24], maxChannels: 6))
        let dac = UInt32(codec.dacNodes[0])
        let caps = codec.param(UInt8(dac), 0x09)
        // Channel count = (bits 15:13 << 1 | bit 0) + 1 (AC_WCAP_CHAN_CNT_EXT, AC_WCAP_STEREO).
        #expect((((caps >> 13) & 7) << 1 | (caps & 1)) + 1 == 6)
        #expect((caps >> 20) & 0xF == 0, "AC_WID_AUD_OUT")
        #expect(caps & (1 << 4) != 0, "AC_WCAP_FORMAT_OVRD")
        // AC_SUPPCM: 8000 bit 0, 44100 bit 5, 192000 bit 10; 16-bit bit 17, 24-bit bit 19.
        #expect(codec.param(UInt8(dac), 0x0A) == (1 << 0 | 1 << 5 | 1 << 10 | 1 << 17 | 1 << 19))
        // SET_POWER_STATE D3 then GET: actual in bits 7:4, setting in 3:0.
        _ = codec.ask(verb(0, dac, 0x705, 3))
        #expect(codec.ask(verb(0, dac, 0xF05)) == 0x33)
    }

    @Test("Verbs with payloads out of range: connection select past the list is ignored, reserved unsolicited bit 6 dropped")
    func payloadsOutOfRange() {
        let codec = VirtualCodec()
        let adc = UInt32(codec.adcNodes[0])
        _ = codec.ask(verb(0, adc, 0x701, 5))
        #expect(codec.ask(verb(0, adc, 0xF01)) == 0)
        let pin = UInt32(codec.outputPinNodes[0])
        _ = codec.ask(verb(0, pin, 0x708, 0xFF))
        #expect(codec.ask(verb(0, pin, 0xF08)) == 0xBF)
        // GET_PARAMETER of nodes that do not exist, and of the root's non-root parameters.
        for node: UInt32 in [UInt32(codec.inputPinNodes.last!) + 1, 0x7F, 0xFF] {
            for p: UInt32 in [0x00, 0x04, 0x09, 0x0A, 0x0C] { #expect(codec.ask(verb(0, node, 0xF00, p)) == 0) }
        }
    }
}

@Suite("Codec streams")
struct CodecStreamTests {
    /// A codec whose DAC 0 listens to `tag` in `format`, with a buffer sink.
    static func playingCodec(tag: UInt8, format: StreamFormat) throws -> (VirtualCodec, SampleBuffer) {
        let codec = VirtualCodec()
        let node = UInt32(codec.dacNodes[0])
        _ = codec.ask(shortVerb(0, node, 0x2, UInt32(try ConverterFormat(format).rawValue)))
        _ = codec.ask(verb(0, node, 0x706, UInt32(tag) << 4))
        let sink = SampleBuffer()
        codec.setSink(sink, dac: 0)
        return (codec, sink)
    }

    static let formats: [StreamFormat] = [
        .make(48000, 16, 16, 2), .make(44100, 8, 8, 1), .make(96000, 24, 32, 6), .make(32000, 20, 32, 2),
        .make(192000, 32, 32, 16), .make(11025, 16, 32, 3),
    ]

    @Test("A DAC plays the stream of its tag in its format, with only the valid bits", arguments: formats)
    func dacPlays(format: StreamFormat) throws {
        let (codec, sink) = try Self.playingCodec(tag: 3, format: format)
        let cf = try ConverterFormat(format)
        let data = randomBytes(format.blockBytes * 12, seed: UInt64(format.sampleRate) ^ UInt64(format.validBitsPerSample))
        data.withUnsafeBytes { d in
            codec.linkReceive(tag: 3, format: cf, frame: 0, blocks: 5, data: UnsafeRawBufferPointer(rebasing: d[0..<(5 * format.blockBytes)]))
            codec.linkReceive(tag: 3, format: cf, frame: 5, blocks: 7, data: UnsafeRawBufferPointer(rebasing: d[(5 * format.blockBytes)...]))
        }
        #expect(sink.format == format)
        #expect(try sink.data == SampleConversion.linkMasked(data, stream: format))
        #expect(codec.blocksPlayed[0] == 12)
        #expect(codec.formatMismatchCount == 0)
    }

    @Test("A DAC ignores other tags and plays nothing with tag 0")
    func dacTags() throws {
        let f = StreamFormat.make(48000, 16, 16, 2)
        let (codec, sink) = try Self.playingCodec(tag: 3, format: f)
        let data = randomBytes(f.blockBytes * 4, seed: 1)
        data.withUnsafeBytes { codec.linkReceive(tag: 4, format: try! ConverterFormat(f), frame: 0, blocks: 4, data: $0) }
        #expect(sink.data.isEmpty)
        _ = codec.ask(verb(0, UInt32(codec.dacNodes[0]), 0x706, 0x00))
        data.withUnsafeBytes { codec.linkReceive(tag: 3, format: try! ConverterFormat(f), frame: 4, blocks: 4, data: $0) }
        #expect(sink.data.isEmpty)
        #expect(codec.formatMismatchCount == 0)
        #expect(codec.blocksPlayed[0] == 0)
    }

    @Test("A DAC whose format differs from the stream's records the mismatch and passes nothing on")
    func dacMismatch() throws {
        let dacFormat = StreamFormat.make(48000, 16, 16, 2)
        let (codec, sink) = try Self.playingCodec(tag: 7, format: dacFormat)
        var traced: [FormatMismatch] = []
        codec.trace = { if case .mismatch(let m) = $0 { traced.append(m) } }
        let stream = StreamFormat.make(44100, 16, 16, 2)
        let data = randomBytes(stream.blockBytes * 9, seed: 9)
        data.withUnsafeBytes { codec.linkReceive(tag: 7, format: try! ConverterFormat(stream), frame: 42, blocks: 9, data: $0) }
        #expect(sink.data.isEmpty)
        #expect(codec.formatMismatchCount == 1)
        let m = try #require(codec.formatMismatches.first)
        #expect(m.node == codec.dacNodes[0] && m.isOutput && m.tag == 7 && m.frame == 42 && m.blocks == 9)
        #expect(m.converterFormat.rawValue == 0x0011 && m.streamFormat.rawValue == 0x4011)
        #expect(m.fault == .formatDiffers)
        #expect(traced == [m])
        // Once the converter is reprogrammed, the same stream plays.
        _ = codec.ask(shortVerb(0, UInt32(codec.dacNodes[0]), 0x2, 0x4011))
        data.withUnsafeBytes { codec.linkReceive(tag: 7, format: try! ConverterFormat(stream), frame: 51, blocks: 9, data: $0) }
        #expect(sink.data == data)
        #expect(codec.formatMismatchCount == 1)
    }

    /// A sink that keeps the format of every packet it is handed.
    final class FormatLog: SampleSink {
        var formats: [StreamFormat] = []
        func consume(_ data: UnsafeRawBufferPointer, blocks: Int, format: StreamFormat) { formats.append(format) }
    }

    @Test("A converter checks every packet against its format, the stream's and the packet's block size, even when the previous packet passed")
    func packetChecksFollowEachPacket() throws {
        let (codec, _) = try Self.playingCodec(tag: 5, format: .make(48000, 16, 16, 2))
        let log = FormatLog()
        codec.setSink(log, dac: 0)
        let stream = try ConverterFormat(StreamFormat.make(48000, 16, 16, 2))
        let data = randomBytes(64, seed: 5)
        func send(_ blocks: Int, bytesPerBlock: Int, format: ConverterFormat? = nil) {
            data.withUnsafeBytes { d in
                codec.linkReceive(tag: 5, format: format ?? stream, frame: 0, blocks: blocks,
                                  data: UnsafeRawBufferPointer(rebasing: d[0..<(blocks * bytesPerBlock)]))
            }
        }
        send(4, bytesPerBlock: 4)    // 16-bit containers
        send(4, bytesPerBlock: 8)    // the same stream in 32-bit containers
        send(4, bytesPerBlock: 6)    // 24-bit containers are not a memory layout
        send(3, bytesPerBlock: 4)
        send(3, bytesPerBlock: 4, format: try ConverterFormat(StreamFormat.make(44100, 16, 16, 2)))
        #expect(log.formats.map(\.containerSize) == [16, 32, 16])
        #expect(log.formats.allSatisfy { $0.sampleRate == 48000 && $0.validBitsPerSample == 16 && $0.numberOfChannels == 2 })
        #expect(codec.formatMismatches.map(\.fault) == [.badPacketLength, .formatDiffers])
        // Reprogrammed to the other stream's format, the converter takes it and refuses the first.
        _ = codec.ask(shortVerb(0, UInt32(codec.dacNodes[0]), 0x2, 0x4011))
        send(2, bytesPerBlock: 4, format: try ConverterFormat(StreamFormat.make(44100, 16, 16, 2)))
        send(2, bytesPerBlock: 4)
        #expect(log.formats.map(\.sampleRate) == [48000, 48000, 48000, 44100])
        #expect(codec.formatMismatches.map(\.fault) == [.badPacketLength, .formatDiffers, .formatDiffers])
        #expect(codec.blocksPlayed[0] == 13)
    }

    @Test("A format outside the codec's capabilities is refused even when the converter is set to it")
    func unsupported() throws {
        let codec = VirtualCodec(configuration: CodecConfiguration(rates: [48000], sampleBits: [16], maxChannels: 2))
        let f = StreamFormat.make(48000, 24, 32, 2)
        let cf = try ConverterFormat(f)
        _ = codec.ask(shortVerb(0, UInt32(codec.dacNodes[0]), 0x2, UInt32(cf.rawValue)))
        _ = codec.ask(verb(0, UInt32(codec.dacNodes[0]), 0x706, 0x10))
        let sink = SampleBuffer()
        codec.setSink(sink, dac: 0)
        randomBytes(f.blockBytes, seed: 2).withUnsafeBytes { codec.linkReceive(tag: 1, format: cf, frame: 0, blocks: 1, data: $0) }
        #expect(sink.data.isEmpty)
        #expect(codec.formatMismatches.map(\.fault) == [.unsupportedFormat])
    }

    @Test("A packet that is not whole blocks is refused")
    func badPacket() throws {
        let f = StreamFormat.make(48000, 16, 16, 2)
        let (codec, sink) = try Self.playingCodec(tag: 2, format: f)
        [UInt8](repeating: 1, count: 7).withUnsafeBytes { codec.linkReceive(tag: 2, format: try! ConverterFormat(f), frame: 0, blocks: 2, data: $0) }
        #expect(sink.data.isEmpty)
        #expect(codec.formatMismatches.map(\.fault) == [.badPacketLength])
    }

    @Test("Two DACs on the same tag both play it")
    func twoDACs() throws {
        let f = StreamFormat.make(48000, 16, 16, 2)
        let (codec, first) = try Self.playingCodec(tag: 1, format: f)
        let second = SampleBuffer()
        codec.setSink(second, dac: 1)
        _ = codec.ask(shortVerb(0, UInt32(codec.dacNodes[1]), 0x2, 0x0011))
        _ = codec.ask(verb(0, UInt32(codec.dacNodes[1]), 0x706, 0x10))
        let data = randomBytes(f.blockBytes * 3, seed: 5)
        data.withUnsafeBytes { codec.linkReceive(tag: 1, format: try! ConverterFormat(f), frame: 0, blocks: 3, data: $0) }
        #expect(first.data == data && second.data == data)
    }

    /// A codec whose ADC 1 sends `tag` in `format`.
    static func recordingCodec(tag: UInt8, format: StreamFormat) throws -> VirtualCodec {
        let codec = VirtualCodec()
        let node = UInt32(codec.adcNodes[1])
        _ = codec.ask(shortVerb(0, node, 0x2, UInt32(try ConverterFormat(format).rawValue)))
        _ = codec.ask(verb(0, node, 0x706, UInt32(tag) << 4))
        return codec
    }

    @Test("An ADC sends its source's samples for its tag, in the stream's format", arguments: formats)
    func adcSends(format: StreamFormat) throws {
        let codec = try Self.recordingCodec(tag: 5, format: format)
        let recorded = try SampleConversion.linkMasked(randomBytes(format.blockBytes * 10, seed: 77), stream: format)
        codec.setSource(try SampleBuffer(format: format, data: recorded), adc: 1)
        var out = [UInt8](repeating: 0xAB, count: format.blockBytes * 10)
        let cf = try ConverterFormat(format)
        let sent = out.withUnsafeMutableBytes { o in
            codec.linkTransmit(tag: 5, format: cf, frame: 0, blocks: 4, into: UnsafeMutableRawBufferPointer(rebasing: o[0..<(4 * format.blockBytes)]))
                && codec.linkTransmit(tag: 5, format: cf, frame: 4, blocks: 6, into: UnsafeMutableRawBufferPointer(rebasing: o[(4 * format.blockBytes)...]))
        }
        #expect(sent)
        #expect(out == recorded)
        #expect(codec.blocksRecorded[1] == 10)
    }

    @Test("An ADC with no source sends silence; no ADC on the tag sends nothing")
    func adcSilenceAndAbsence() throws {
        let f = StreamFormat.make(48000, 8, 8, 2)
        let codec = try Self.recordingCodec(tag: 5, format: f)
        var out = [UInt8](repeating: 0x55, count: f.blockBytes * 4)
        let cf = try ConverterFormat(f)
        #expect(out.withUnsafeMutableBytes { codec.linkTransmit(tag: 5, format: cf, frame: 0, blocks: 4, into: $0) })
        #expect(out.allSatisfy { $0 == 0 })
        #expect(!out.withUnsafeMutableBytes { codec.linkTransmit(tag: 6, format: cf, frame: 0, blocks: 4, into: $0) })
        #expect(!out.withUnsafeMutableBytes { codec.linkTransmit(tag: 0, format: cf, frame: 0, blocks: 4, into: $0) })
    }

    @Test("An ADC whose format differs sends silence and records the mismatch")
    func adcMismatch() throws {
        let f = StreamFormat.make(48000, 16, 16, 2)
        let codec = try Self.recordingCodec(tag: 5, format: f)
        codec.setSource(ToneGenerator(), adc: 1)
        let other = StreamFormat.make(48000, 24, 32, 2)
        var out = [UInt8](repeating: 0x55, count: other.blockBytes * 4)
        #expect(out.withUnsafeMutableBytes { codec.linkTransmit(tag: 5, format: try! ConverterFormat(other), frame: 9, blocks: 4, into: $0) })
        #expect(out.allSatisfy { $0 == 0 })
        let m = try #require(codec.formatMismatches.first)
        #expect(!m.isOutput && m.node == codec.adcNodes[1] && m.frame == 9 && m.fault == .formatDiffers)
    }

    @Test("Loopback: what DAC 0 plays, ADC 0 records unchanged", arguments: formats)
    func loopback(format: StreamFormat) throws {
        let codec = VirtualCodec()
        let cf = try ConverterFormat(format)
        for node in [codec.dacNodes[0], codec.adcNodes[0]] {
            _ = codec.ask(shortVerb(0, UInt32(node), 0x2, UInt32(cf.rawValue)))
        }
        _ = codec.ask(verb(0, UInt32(codec.dacNodes[0]), 0x706, 0x90))
        _ = codec.ask(verb(0, UInt32(codec.adcNodes[0]), 0x706, 0x20))
        codec.loopback(dac: 0, adc: 0)
        let played = randomBytes(format.blockBytes * 20, seed: 0x100)
        played.withUnsafeBytes { codec.linkReceive(tag: 9, format: cf, frame: 0, blocks: 20, data: $0) }
        var recorded = [UInt8](repeating: 0, count: played.count)
        #expect(recorded.withUnsafeMutableBytes { codec.linkTransmit(tag: 2, format: cf, frame: 0, blocks: 20, into: $0) })
        #expect(try recorded == SampleConversion.linkMasked(played, stream: format))
    }

    @Test("A codec configured with maxChannels 0 refuses packets as unsupported instead of trapping")
    func zeroMaxChannels() throws {
        let codec = VirtualCodec(configuration: CodecConfiguration(maxChannels: 0))
        let f = StreamFormat.make(48000, 16, 16, 2)
        let cf = try ConverterFormat(f)
        _ = codec.ask(shortVerb(0, UInt32(codec.dacNodes[0]), 0x2, UInt32(cf.rawValue)))
        _ = codec.ask(verb(0, UInt32(codec.dacNodes[0]), 0x706, 0x10))
        let sink = SampleBuffer()
        codec.setSink(sink, dac: 0)
        randomBytes(f.blockBytes * 2, seed: 5).withUnsafeBytes { codec.linkReceive(tag: 1, format: cf, frame: 0, blocks: 2, data: $0) }
        #expect(sink.data.isEmpty)
        #expect(codec.formatMismatches.map(\.fault) == [.unsupportedFormat])
    }
}

@Suite("Unsolicited responses")
struct UnsolicitedTests {
    @Test("A jack presence change on an enabled pin is returned once with its tag in bits 31:26")
    func presenceChange() {
        let codec = VirtualCodec()
        let pin = codec.outputPinNodes[1]
        _ = codec.ask(verb(0, UInt32(pin), 0x708, 0x80 | 0x2A))
        #expect(codec.ask(verb(0, UInt32(pin), 0xF08)) == 0xAA)
        #expect(codec.setJackPresence(pin: pin, present: true))
        #expect(codec.ask(verb(0, UInt32(pin), 0xF09)) & 0x8000_0000 != 0)
        let r = codec.linkPollUnsolicited()
        #expect(r.map { $0 >> 26 } == 0x2A)
        #expect(codec.linkPollUnsolicited() == nil)
        // No change, no response; a change back raises another.
        #expect(!codec.setJackPresence(pin: pin, present: true))
        #expect(codec.setJackPresence(pin: pin, present: false))
        #expect(codec.linkPollUnsolicited().map { $0 >> 26 } == 0x2A)
        #expect(codec.ask(verb(0, UInt32(pin), 0xF09)) == 0)
    }

    @Test("A pin with unsolicited responses disabled raises nothing")
    func disabled() {
        let codec = VirtualCodec()
        let pin = codec.inputPinNodes[0]
        #expect(!codec.setJackPresence(pin: pin, present: true))
        #expect(codec.linkPollUnsolicited() == nil)
        #expect(codec.unsolicitedDropped == 1)
        _ = codec.ask(verb(0, UInt32(pin), 0x708, 0x05))   // tag without the enable bit
        #expect(!codec.raiseUnsolicited(node: pin))
        #expect(codec.linkPollUnsolicited() == nil)
    }

    @Test("Responses from several pins come out in the order raised, each once, with their payload")
    func ordering() {
        let codec = VirtualCodec()
        let a = codec.outputPinNodes[0], b = codec.inputPinNodes[0]
        _ = codec.ask(verb(0, UInt32(a), 0x708, 0x81))
        _ = codec.ask(verb(0, UInt32(b), 0x708, 0x82))
        #expect(codec.raiseUnsolicited(node: b, payload: 0x12345))
        #expect(codec.raiseUnsolicited(node: a, payload: 0x3))
        #expect(codec.pendingUnsolicited == 2)
        let first = codec.linkPollUnsolicited(), second = codec.linkPollUnsolicited()
        #expect(first == UInt32(2 << 26 | 0x12345))
        #expect(second == UInt32(1 << 26 | 0x3))
        #expect(codec.linkPollUnsolicited() == nil)
    }

    @Test("Link reset disables unsolicited responses and drops queued ones")
    func reset() {
        let codec = VirtualCodec()
        let pin = codec.outputPinNodes[0]
        _ = codec.ask(verb(0, UInt32(pin), 0x708, 0x81))
        codec.raiseUnsolicited(node: pin)
        codec.linkReset()
        #expect(codec.linkPollUnsolicited() == nil)
        #expect(!codec.raiseUnsolicited(node: pin))
    }

    @Test("An unsolicited response from the audio function group carries its tag in bits 31:26 and the payload in 25:0")
    func functionGroupUnsolicited() {
        let codec = VirtualCodec()
        _ = codec.ask(verb(0, 1, 0x708, 0x80 | 0x2A))
        #expect(codec.raiseUnsolicited(node: 1, payload: 0xFFFF_FFFF))
        let expected: UInt32 = 0x2A << 26 | 0x03FF_FFFF
        let first = codec.linkPollUnsolicited()
        #expect(first == expected)
        #expect(codec.linkPollUnsolicited() == nil)
        // A DAC cannot enable unsolicited responses: raising from it is dropped.
        _ = codec.ask(verb(0, UInt32(codec.dacNodes[0]), 0x708, 0x81))
        #expect(!codec.raiseUnsolicited(node: codec.dacNodes[0]))
        #expect(codec.unsolicitedDropped == 1)
    }
}
