import Foundation
import Testing
import HDAudio
@testable import HDACodec

/// Independent review of the virtual codec and WAV I/O against the issue texts and the
/// HD Audio facts (field layouts checked against Linux include/sound/hda_verbs.h).
/// Disabled tests assert the correct behaviour of a bug the review found.
@Suite("Review: codec and WAV")
struct CodecWAVReviewTests {
    // MARK: Codec facts

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

    // MARK: Tone generator

    @Test("A tone generator given a non-finite amplitude or frequency produces silence, never traps",
          arguments: [(Double.nan, 0.5), (440.0, Double.nan), (Double.infinity, 0.5)] as [(Double, Double)])
    func nonFiniteTone(_ frequency: Double, _ amplitude: Double) {
        let tone = ToneGenerator(frequency: frequency, amplitude: amplitude)
        var buffer = [UInt8](repeating: 0xAA, count: 16)
        let n = buffer.withUnsafeMutableBytes { tone.produce(into: $0, blocks: 4, format: .make(48000, 16, 16, 2)) }
        #expect(n == 4)
        #expect(buffer.allSatisfy { $0 == 0 })
    }

    // MARK: WAV

    @Test("Whatever the WAV writer accepts reads back identically (nAvgBytesPerSec must fit in 32 bits)")
    func byteRateOverflow() {
        let format = WAVFormat(sampleRate: 0x8000_0000, channels: 16, bitsPerSample: 32)
        let file = WAVFile(format: format, data: [UInt8](repeating: 1, count: format.blockAlign))
        if let bytes = try? file.serialized() {
            #expect((try? WAVFile.parse(bytes)) == file)
        }
    }

    @Test("An odd-sized chunk with its pad byte before fmt, and an odd data chunk with its pad byte, parse exactly")
    func oddChunksWithPad() throws {
        let data: [UInt8] = [0x00, 0x80, 0xFF]
        let list = Array("LIST".utf8) + RawWAV.le32(5) + Array("INFOx".utf8) + [0]
        let wav = RawWAV(channels: 1, rate: 8000, bits: 8, data: data, extraChunk: list).bytes
        let file = try WAVFile.parse(wav)
        #expect(file.format == WAVFormat(sampleRate: 8000, channels: 1, bitsPerSample: 8))
        #expect(file.data == data)
        // 8-bit WAV is unsigned: 0x00 is the most negative sample, 0x80 silence, 0xFF the most positive.
        let memory = try SampleConversion.memoryBytes(fromWAV: file.data, format: file.format, stream: .make(8000, 8, 8, 1))
        #expect(memory == [0x80, 0x00, 0x7F])
        // The writer pads the odd data chunk and the reader gives back the same file.
        let written = try file.serialized()
        #expect(written.count % 2 == 0)
        #expect(try WAVFile.parse(written) == file)
    }

    @Test("A data chunk announcing more than the file holds, and a huge RIFF size, are clear errors")
    func oversizedChunks() {
        var bytes = RawWAV().bytes
        let dataSizeAt = bytes.count - 4 - 4
        bytes.replaceSubrange(dataSizeAt..<dataSizeAt + 4, with: RawWAV.le32(0xFFFF_FFF0))
        #expect(throws: WAVError.self) { try WAVFile.parse(bytes) }
        var riff = RawWAV().bytes
        riff.replaceSubrange(4..<8, with: RawWAV.le32(0xFFFF_FFFF))
        #expect(throws: WAVError.self) { try WAVFile.parse(riff) }
    }
}

@Suite("WAV paths that are not files")
struct WAVPathTests {
    @Test("Reading a device such as /dev/zero is refused without loading it into memory")
    func deviceRefused() {
        #expect(throws: WAVError.self) { try WAVFile.read(path: "/dev/zero") }
        #expect(throws: WAVError.self) { try WAVFile.read(path: "/tmp") }
        #expect(throws: WAVError.self) { try WAVFile.read(path: "/nonexistent/file.wav") }
    }
}
