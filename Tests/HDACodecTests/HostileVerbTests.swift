import Testing
import HDAudio
@testable import HDACodec
import TestSupport

/// Random verbs, as a hostile driver sends them, at codecs made from every shipped dump and at
/// the virtual codec, with streams run between them: no verb, payload or format traps.
@Suite("Codecs: hostile verbs")
struct HostileVerbTests {
    static let dumps = ["ad1984a-dell-optiplex-360.txt#0", "alc269vb-asus-ux31a.txt#0", "alc269vc-lenovo-thinkpad-t530.txt#0",
                        "alc282-asus-tx300ca.txt#0", "cx20585-lenovo-thinkpad-t410s.txt#0", "idt92hd81b1x5-hp-probook-6570b.txt#0"]

    @Test("20,000 random verbs (12-bit and 4-bit verb ids, any payload, any node) and stream blocks between them", arguments: dumps + ["virtual"])
    func randomVerbs(codecName: String) throws {
        let codec: any LinkCodec = codecName == "virtual" ? VirtualCodec(address: 0) : DumpCodec(dump: try shipped(codecName), address: 0)
        var rng = SeededRandom(seed: 0xC0DEC)
        var answered = 0
        for step in 0..<20_000 {
            // Mostly nodes the codec has, sometimes any of the 128 (and other addresses).
            let node = UInt32(rng.next() % (step % 4 == 0 ? 128 : 0x40))
            let address = UInt32(rng.next() % 16 == 0 ? rng.next() % 16 : 0)
            let low = UInt32(truncatingIfNeeded: rng.next()) & 0xF_FFFF
            if codec.linkCommand(address << 28 | node << 20 | low) != nil { answered += 1 }
            if step % 64 == 0 {
                // A stream block on any tag and format, into and out of the codec.
                let tag = UInt8(truncatingIfNeeded: rng.next() % 16)
                let format = ConverterFormat(rawValue: UInt16(truncatingIfNeeded: rng.next()))
                let blocks = Int(rng.next() % 4)
                // The controller moves whole blocks of the format the descriptor decodes to.
                if let stream = try? format.decode() {
                    var buffer = [UInt8](repeating: 0x5A, count: blocks * stream.blockBytes)
                    buffer.withUnsafeBytes { codec.linkReceive(tag: tag, format: format, frame: UInt64(step), blocks: blocks, data: $0) }
                    _ = buffer.withUnsafeMutableBytes { codec.linkTransmit(tag: tag, format: format, frame: UInt64(step), blocks: blocks, into: $0) }
                }
                _ = codec.linkPollUnsolicited()
            }
        }
        // The codec at address 0 answers every verb sent to address 0.
        #expect(answered > 15_000)
    }
}
