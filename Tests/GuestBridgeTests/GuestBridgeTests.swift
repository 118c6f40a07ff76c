import Foundation
import Glibc
import GuestBridge
import HDACodec
import HDAController
import HDAudio
import Testing

/// Sends one protocol message (header + payload, optional fds) on `fd`.
private func send(_ fd: Int32, command: Int32, payload: [UInt8]) {
    var message = [UInt8](repeating: 0, count: 16)
    message.withUnsafeMutableBytes {
        $0.storeBytes(of: command, toByteOffset: 0, as: Int32.self)
        $0.storeBytes(of: UInt64(payload.count), toByteOffset: 8, as: UInt64.self)
    }
    message += payload
    _ = message.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, 0) }
}

/// Reads one RET and returns its value (nil for an empty RET).
private func readReturn(_ fd: Int32) -> (command: Int32, value: UInt64?) {
    var header = [UInt8](repeating: 0, count: 16)
    _ = header.withUnsafeMutableBytes { recv(fd, $0.baseAddress, 16, Int32(MSG_WAITALL)) }
    let command = header.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: 0, as: Int32.self) }
    let size = header.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: 8, as: UInt64.self) }
    guard size == 8 else { return (command, nil) }
    var value: UInt64 = 0
    _ = recv(fd, &value, 8, Int32(MSG_WAITALL))
    return (command, value)
}

private func bytes<T>(_ value: T) -> [UInt8] { withUnsafeBytes(of: value) { Array($0) } }

/// A device serving one end of a fresh socket pair; the other end is the peer (QEMU's side).
private func connectedDevice() -> (device: AzaliaPCIDevice, peer: Int32) {
    var pair: [Int32] = [-1, -1]
    #expect(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &pair) == 0)
    return (AzaliaPCIDevice(profile: .ich6, codecs: [], socket: pair[0], rate: 1.0), pair[1])
}

@Suite("Guest bridge: PCI function and the multi-process protocol")
struct GuestBridgeTests {
    @Test("The configuration header: ids, class 0x0403, INTA#, BAR0 sizing reads back a 16 KiB memory BAR")
    func configSpace() {
        var c = PCIConfigSpace(vendor: 0x8086, device: 0x2668, revision: 1)
        #expect(c.read(0x00, length: 4) == 0x2668_8086)
        #expect(c.read(0x08, length: 4) == 0x0403_0001)
        #expect(c.read(0x3D, length: 1) == 1)
        #expect(c.read(0x06, length: 2) & 0x10 == 0, "no capability list")
        c.write(0x10, 0xFFFF_FFFF, length: 4)
        #expect(c.read(0x10, length: 4) == 0xFFFF_C000)
        c.write(0x10, 0xFEBF_C123, length: 4)
        #expect(c.bar0 == 0xFEBF_C000)
        c.write(0x00, 0, length: 4)
        #expect(c.read(0x00, length: 2) == 0x8086, "ids are read-only")
        c.write(0x44, 0x07, length: 1)
        #expect(c.read(0x44, length: 1) == 0x07, "device-specific bytes read back")
        #expect(c.read(0xFE, length: 4) == 0xFFFF_0000 | c.read(0xFE, length: 2), "past the end reads ones")
    }

    @Test("Config and BAR messages on the socket reach the controller: GCAP and VMAJ read, GCTL written, replies are RET")
    func protocolRoundTrip() throws {
        let (device, peer) = connectedDevice()
        defer { close(peer) }
        // Program BAR0 at 0xFEBF0000 through the configuration space, then read GCAP and write GCTL.
        send(peer, command: 2, payload: bytes(UInt32(0x10)) + bytes(UInt32(0xFEBF_0000)) + bytes(Int32(4)))
        send(peer, command: 3, payload: bytes(UInt32(0x0A)) + bytes(UInt32(0)) + bytes(Int32(2)))
        send(peer, command: 5, payload: bytes(UInt64(0xFEBF_0000)) + bytes(UInt64(0)) + bytes(UInt32(2)) + [1, 0, 0, 0])
        send(peer, command: 5, payload: bytes(UInt64(0xFEBF_0003)) + bytes(UInt64(0)) + bytes(UInt32(1)) + [1, 0, 0, 0])
        send(peer, command: 4, payload: bytes(UInt64(0xFEBF_0008)) + bytes(UInt64(1)) + bytes(UInt32(4)) + [1, 0, 0, 0])
        send(peer, command: 5, payload: bytes(UInt64(0xFEBF_4000)) + bytes(UInt64(0)) + bytes(UInt32(4)) + [1, 0, 0, 0])
        send(peer, command: 7, payload: [])
        shutdown(peer, Int32(SHUT_WR))
        try device.serve { false }   // returns when the peer has closed its side
        let replies = (0..<7).map { _ in readReturn(peer) }
        #expect(replies.allSatisfy { $0.command == 1 })
        #expect(replies[1].value == 0x0403, "class code word at 0x0A")
        #expect(replies[2].value == 0x4401, "GCAP of ich6")
        #expect(replies[3].value == 1, "VMAJ")
        #expect(replies[5].value == 0, "outside BAR0 reads 0")
        #expect(replies[6].value == nil, "DEVICE_RESET gets an empty RET")
        #expect(device.writes["GCTL"] == 1)
        #expect(device.reads["GCAP"] == 1)
    }

    @Test("BAR accesses at the top of the address space, with BAR0 not yet programmed, read 0 and write nothing (no overflow)")
    func barAtTheTop() throws {
        let (device, peer) = connectedDevice()
        defer { close(peer) }
        // BAR0 is 0 until the guest programs it: an access at 2^64 - 1 lies 2^64 - 1 past it.
        send(peer, command: 5, payload: bytes(UInt64.max) + bytes(UInt64(0)) + bytes(UInt32(4)) + [1, 0, 0, 0])
        send(peer, command: 4, payload: bytes(UInt64.max - 1) + bytes(UInt64(0xFFFF_FFFF)) + bytes(UInt32(2)) + [1, 0, 0, 0])
        send(peer, command: 5, payload: bytes(UInt64(0x08)) + bytes(UInt64(0)) + bytes(UInt32(4)) + [1, 0, 0, 0])
        shutdown(peer, Int32(SHUT_WR))
        try device.serve { false }
        let replies = (0..<3).map { _ in readReturn(peer) }
        #expect(replies.allSatisfy { $0.command == 1 })
        #expect(replies[0].value == 0, "outside BAR0 reads 0")
        #expect(replies[2].value == 0, "GCTL untouched by the write outside BAR0")
        #expect(device.writes.isEmpty)
    }

    @Test("A message with an oversized payload is a protocol violation, not a crash")
    func oversized() {
        let (device, peer) = connectedDevice()
        defer { close(peer) }
        var header = [UInt8](repeating: 0, count: 16)
        header.withUnsafeMutableBytes { $0.storeBytes(of: UInt64(1 << 20), toByteOffset: 8, as: UInt64.self) }
        _ = header.withUnsafeBytes { Glibc.send(peer, $0.baseAddress, 16, 0) }
        #expect(throws: GuestBridgeError.self) { try device.serve { false } }
    }

    @Test("The pacer runs link time at its rate: 0.25 x real time is 12 frames per millisecond")
    func pacer() {
        let p = LinkPacer(rate: 0.25, frame: 1000)
        let t = p.nanos(atFrame: 1000 + 12_000)
        #expect(p.frame(atNanos: t) >= 1000 + 11_999 && p.frame(atNanos: t) <= 1000 + 12_000)
        #expect(p.nanos(atFrame: 1000 + 12_000) - p.nanos(atFrame: 1000) == 1_000_000_000)
    }

    @Test("A newc archive: magic, name sizes, 4-byte padding and the trailer")
    func newc() {
        var a = NewcArchive()
        a.addDirectory("job")
        a.addFile("job/run", data: Array("echo\n".utf8), mode: 0o755)
        let bytes = a.finished()
        #expect(bytes.count % 4 == 0)
        #expect(String(decoding: bytes.prefix(6), as: UTF8.self) == "070701")
        let text = String(decoding: bytes, as: UTF8.self)
        #expect(text.contains("job/run\0"))
        #expect(text.contains("TRAILER!!!\0"))
        #expect(text.contains("000081ED"), "a regular file with mode 0755")
    }

    @Test("Playback comparison: equal after leading silence, the ring replay in the tail counted; a changed sample is found")
    func playbackComparison() {
        let input = TestSignals.tones(rate: 48000, seconds: 0.1)
        let lead = [UInt8](repeating: 0, count: 4 * 10)
        let replay = Array(input.data.suffix(4 * 100))
        var heard = WAVFile(format: input.format, data: lead + input.data + replay)
        let ok = PlaybackComparison(input: input, heard: heard)
        #expect(ok.equal && ok.leadingBlocks == 10 && ok.tailBlocks == 100 && ok.tailReplayedBlocks == 100)
        heard.data[4 * 10 + 4 * 2000] ^= 1
        let bad = PlaybackComparison(input: input, heard: heard)
        #expect(!bad.equal && bad.firstDifference == 2000)
    }

    @Test("Recording comparison: in order passes, a dropped block and a repeated block are named")
    func recordingComparison() {
        let source = TestSignals.counter(rate: 48000, seconds: 0.2)
        let slice = { (r: Range<Int>) in Array(source.data[(r.lowerBound * 4)..<(r.upperBound * 4)]) }
        #expect(RecordingComparison(source: source, recorded: WAVFile(format: source.format, data: slice(5..<5000))).intact)
        let dropped = RecordingComparison(source: source, recorded: WAVFile(format: source.format, data: slice(0..<100) + slice(103..<200)))
        #expect(dropped.fault?.block == 100 && dropped.fault?.what == "3 blocks missing")
        let repeated = RecordingComparison(source: source, recorded: WAVFile(format: source.format, data: slice(0..<100) + slice(98..<200)))
        #expect(repeated.fault?.block == 100 && repeated.fault?.what == "2 blocks repeated")
    }
}

@Suite("Guest bridge: the codec the guest's controller gets")
struct GuestCodecTests {
    static let dumps = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("CodecDumps")

    func options(sink: String? = nil, dump: String? = nil) throws -> GuestRunOptions {
        var o = GuestRunOptions(job: .shell, cacheDirectory: "/nonexistent", guestDirectory: "/nonexistent")
        o.sinkPath = sink
        if let dump { o.codecDump = try CodecDump.load(Self.dumps.appendingPathComponent(dump).path) }
        return o
    }

    func send(_ codec: any LinkCodec, _ node: UInt8, _ verb: UInt16, _ payload: UInt8 = 0) -> UInt32 {
        codec.linkCommand(CodecVerb(codec: 0, node: node, verb: verb, payload: payload).rawValue) ?? 0
    }

    @Test("Without a dump the guest gets Azalia's virtual codec; with one, the dump's chip at address 0")
    func codecChoice() throws {
        #expect(try GuestRun.makeCodec(options()).codec is VirtualCodec)
        let made = try GuestRun.makeCodec(options(dump: "alc269vb-asus-ux31a.txt"))
        let codec = made.codec
        let chip = try #require(codec as? DumpCodec)
        #expect(chip.address == 0 && made.sink == nil && made.heard == nil)
        #expect(send(codec, 0, CodecVerb.getParameter, CodecParameter.vendorID.rawValue) == 0x10EC_0269)
        #expect(send(codec, 1, CodecVerb.getSubsystemID) == 0x1043_1517)
    }

    @Test("With a dump, the recorded file is heard at every input pin: whichever ADC and pin Linux selects records it",
          arguments: [(UInt8(0x09), UInt8(0x22), UInt8(6), UInt8(0x12)), (0x08, 0x23, 0, 0x18), (0x08, 0x23, 1, 0x19)])
    func sourceOnEveryInputPin(_ adc: UInt8, _ mixer: UInt8, _ entry: UInt8, _ pin: UInt8) throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("azalia-guestsource-\(getpid())-\(pin)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let samples = (0..<48 * 4).map { UInt8(truncatingIfNeeded: $0 * 13 + Int(pin)) }
        let file = dir.appendingPathComponent("source.wav")
        try Data(try WAVFile.header(for: WAVFormat(sampleRate: 48000, channels: 2, bitsPerSample: 16), dataBytes: samples.count) + samples)
            .write(to: file)
        var o = try options(dump: "alc269vc-lenovo-thinkpad-t530.txt")
        o.sourcePath = file.path
        let codec = try GuestRun.makeCodec(o).codec
        // The T530's capture paths: ADC 0x09 <- mixer 0x22 <- internal mic 0x12; ADC 0x08 <- mixer 0x23 <- mic jack 0x18,
        // or 0x19 (N/A in the dump, the dock mic once Linux's Lenovo quirk has rewritten its configuration).
        let format = try ConverterFormat(StreamFormat(rate: 48000, bits: 16, channels: 2))
        _ = codec.linkCommand(CodecVerb(codec: 0, node: adc, shortVerb: CodecVerb.setConverterFormat, payload: format.rawValue).rawValue)
        _ = send(codec, adc, CodecVerb.setConverterStreamChannel, 0x20)
        _ = codec.linkCommand(CodecVerb(codec: 0, node: adc, shortVerb: CodecVerb.setAmpGainMute, payload: 0x7000).rawValue)
        _ = codec.linkCommand(CodecVerb(codec: 0, node: mixer, shortVerb: CodecVerb.setAmpGainMute, payload: 0x7000 | UInt16(entry) << 8).rawValue)
        _ = codec.linkCommand(CodecVerb(codec: 0, node: pin, shortVerb: CodecVerb.setAmpGainMute, payload: 0x7000).rawValue)
        _ = send(codec, pin, CodecVerb.setPinWidgetControl, 0x20)
        #expect((codec as? DumpCodec)?.pinFeeding(adc: adc) == pin)
        var got = [UInt8](repeating: 0xEE, count: samples.count)
        let sent = got.withUnsafeMutableBytes { codec.linkTransmit(tag: 2, format: format, frame: 0, blocks: 48, into: $0) }
        #expect(sent && got == samples)
    }

    /// Opens DAC `dac` -> mixer `mixer` (entry 0) -> `pin` (connection `select`) of the T530 as a driver would.
    func openOutput(_ codec: any LinkCodec, dac: UInt8, mixer: UInt8, pin: UInt8, select: UInt8, format: ConverterFormat) {
        _ = codec.linkCommand(CodecVerb(codec: 0, node: dac, shortVerb: CodecVerb.setConverterFormat, payload: format.rawValue).rawValue)
        _ = send(codec, dac, CodecVerb.setConverterStreamChannel, 0x10)
        _ = codec.linkCommand(CodecVerb(codec: 0, node: mixer, shortVerb: CodecVerb.setAmpGainMute, payload: 0x7000).rawValue)
        _ = send(codec, pin, CodecVerb.setConnectionSelect, select)
        _ = codec.linkCommand(CodecVerb(codec: 0, node: pin, shortVerb: CodecVerb.setAmpGainMute, payload: 0xB000).rawValue)
        _ = send(codec, pin, CodecVerb.setPinWidgetControl, 0x40)
    }

    /// The heard file after `open` programs the T530 and one packet of 64 blocks plays, and the pin heard.
    func heard(_ open: (any LinkCodec, ConverterFormat) -> Void) throws -> (data: [UInt8], sent: [UInt8], pin: UInt8?) {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("azalia-guestcodec-\(getpid())-\(UInt64.random(in: 0...UInt64.max))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("heard.wav").path
        let made = try GuestRun.makeCodec(options(sink: path, dump: "alc269vc-lenovo-thinkpad-t530.txt"))
        let format = try ConverterFormat(StreamFormat(rate: 48000, bits: 16, channels: 2))
        open(made.codec, format)
        let data = (0..<64 * 4).map { UInt8(truncatingIfNeeded: $0 * 7 + 3) }
        data.withUnsafeBytes { made.codec.linkReceive(tag: 1, format: format, frame: 0, blocks: 64, data: $0) }
        try #require(made.sink).finish()
        let wav = FileManager.default.fileExists(atPath: path) ? try WAVFile.read(path: path).data : []
        return (wav, data, made.heard?.pin)
    }

    @Test("With a dump, the speaker (the T530's default output) playing is the heard file")
    func speakerHeard() throws {
        let r = try heard { codec, format in self.openOutput(codec, dac: 0x03, mixer: 0x0D, pin: 0x14, select: 1, format: format) }
        #expect(r.data == r.sent && r.pin == 0x14)
    }

    @Test("A driver that plays through the headphone pin only (a quirk's choice) is heard there")
    func headphoneHeard() throws {
        let r = try heard { codec, format in self.openOutput(codec, dac: 0x02, mixer: 0x0C, pin: 0x15, select: 0, format: format) }
        #expect(r.data == r.sent && r.pin == 0x15)
    }

    @Test("Speaker and headphone both playing: the speaker is heard, once (not both pins' samples)")
    func bestPinHeardOnce() throws {
        let r = try heard { codec, format in
            self.openOutput(codec, dac: 0x02, mixer: 0x0C, pin: 0x15, select: 0, format: format)
            self.openOutput(codec, dac: 0x02, mixer: 0x0C, pin: 0x14, select: 0, format: format)
        }
        #expect(r.pin == 0x14 && r.data == r.sent)
    }

    @Test("Nothing playing: no heard file and no pin")
    func nothingHeard() throws {
        let r = try heard { _, _ in }
        #expect(r.data.isEmpty && r.pin == nil)
    }

    @Test("A pin whose path is open to a DAC without a stream is not playing: the pin the streaming DAC reaches is heard")
    func silentDACNotHeard() throws {
        let r = try heard { codec, format in
            self.openOutput(codec, dac: 0x03, mixer: 0x0D, pin: 0x14, select: 1, format: format)   // speaker path open to DAC 0x03 ...
            _ = self.send(codec, 0x03, CodecVerb.setConverterStreamChannel, 0x00)                     // ... which has no stream
            self.openOutput(codec, dac: 0x02, mixer: 0x0C, pin: 0x15, select: 0, format: format)
        }
        #expect(r.pin == 0x15 && r.data == r.sent)
    }
}
