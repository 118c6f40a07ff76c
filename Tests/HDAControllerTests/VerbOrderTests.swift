import HDAController
import HDAudio
import Testing
import TestSupport

/// A codec that notes, for every block it receives, how many verbs it had received by then:
/// what a codec whose converters follow their verbs (SET_STREAM, SET_FORMAT, power) plays.
final class VerbCountingCodec: LinkCodec {
    var verbs = 0
    /// The verb count at each received block, in order.
    var verbsAtBlock: [Int] = []
    /// The verb count at each block sent (tag 2), in order.
    var verbsAtSentBlock: [Int] = []
    func linkReceive(tag: UInt8, format: ConverterFormat, frame: UInt64, blocks: Int, data: UnsafeRawBufferPointer) {
        verbsAtBlock.append(contentsOf: repeatElement(verbs, count: blocks))
    }
    func linkTransmit(tag: UInt8, format: ConverterFormat, frame: UInt64, blocks: Int,
                      into data: UnsafeMutableRawBufferPointer) -> Bool {
        guard tag == 2 else { return false }
        verbsAtSentBlock.append(contentsOf: repeatElement(verbs, count: blocks))
        data.initializeMemory(as: UInt8.self, repeating: UInt8(truncatingIfNeeded: verbs))
        return true
    }
    func linkCommand(_ verb: UInt32) -> UInt32? {
        verbs += 1
        return 0
    }
}

@Suite("Verbs and stream data in frame order")
struct VerbOrderTests {
    /// A controller with one output and one input stream (48 kHz stereo, one block a frame,
    /// no event for `frames`) and a CORB holding `verbs` verbs, all queued before time moves.
    func run(frames: UInt64, verbs: Int, batched: Bool) throws -> (received: [Int], sent: [Int], memory: [UInt8]) {
        let c = HDAController(memory: GuestMemory(pages: 64))
        let codec = VerbCountingCodec()
        c.attach(codec, at: 0)
        c.bringUp()
        _ = try programStream(c, descriptor: 4, format: StreamFormat(rate: 48000, bits: 16, channels: 2),
                              lengths: [8192, 8192], iocs: [false, false], tag: 1)
        let input = try programStream(c, descriptor: 0, format: StreamFormat(rate: 48000, bits: 16, channels: 2),
                                      lengths: [8192, 8192], iocs: [false, false], tag: 2)
        let (corb, _) = try setUpRings(c)
        c.run(4)
        c.run(0)
        c.advance(frames: 3)
        for i in 1...verbs { try c.memory.writeUInt32(corb.adding(UInt64(4 * i))!, UInt32(0x00F0_0000 | i)) }
        c.write16(HDARegister.corbwp, UInt16(verbs))
        if batched {
            c.advance(frames: frames)
        } else {
            for _ in 0..<frames { c.advance(frames: 1) }
        }
        #expect(codec.verbs == verbs)
        #expect(c.checkInvariants() == [])
        let memory = try c.memory.read(input.entries[0].address, count: 256)
        return (codec.verbsAtBlock, codec.verbsAtSentBlock, memory)
    }

    @Test("A stream's blocks reach the codec in frame order with the verbs sent beside them: batched as stepped, with several verbs queued at once")
    func verbsInterleaveAsStepped() throws {
        let stepped = try run(frames: 40, verbs: 6, batched: false)
        let batched = try run(frames: 40, verbs: 6, batched: true)
        #expect(stepped.received.count == 43 && stepped.sent.count == 43)
        #expect(stepped.received == batched.received)
        #expect(stepped.sent == batched.sent)
        // What the input engine wrote to memory shows the same order.
        #expect(stepped.memory == batched.memory)
        // Stepped, the verbs go out one a frame while blocks flow: the counts rise block by block.
        #expect(Set(stepped.received).count == 7 && Set(stepped.sent).count == 7)
    }
}
