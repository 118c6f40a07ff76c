import HDAController
import HDAudio
import Testing
import TestSupport

/// Moves `frames` frames in one `advance` (batched) or one frame at a time (stepped).
func drive(_ c: HDAController, frames: UInt64, batched: Bool) {
    if batched {
        c.advance(frames: frames)
    } else {
        for _ in 0..<frames { c.advance(frames: 1) }
    }
}

@Suite("Verbs and stream data in frame order")
struct VerbOrderTests {
    /// A controller with one output and one input stream (48 kHz stereo, one block a frame,
    /// no event for `frames`) and a CORB holding `verbs` verbs, all queued before time moves.
    func run(frames: UInt64, verbs: Int, batched: Bool) throws -> (received: [Int], sent: [Int], memory: [UInt8]) {
        let c = HDAController(memory: GuestMemory(pages: 64))
        // A codec whose converters follow their verbs: it notes the verbs each block met.
        let codec = TestCodec(transmitTags: [2], seed: 5)
        codec.followsVerbs = true
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
        drive(c, frames: frames, batched: batched)
        #expect(codec.verbs.count == verbs)
        #expect(c.checkInvariants() == [])
        let memory = try c.memory.read(input.entries[0].address, count: 256)
        return (codec.verbsAtBlock[1] ?? [], codec.verbsAtSentBlock[2] ?? [], memory)
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

@Suite("Engines that share guest memory")
struct SharedMemoryOrderTests {
    /// One output engine playing the very pages one input engine records into (a hostile
    /// driver's aliasing), run batched or stepped; what the codec received and all of RAM.
    func run(frames: UInt64, batched: Bool, outputAhead: UInt32) throws -> ([UInt8: [UInt8]], [UInt8]) {
        let c = HDAController(memory: GuestMemory(pages: 64))
        let codec = TestCodec(transmitTags: [2], seed: 5)
        c.attach(codec, at: 0)
        c.bringUp()
        let format = StreamFormat(rate: 48000, bits: 16, channels: 2)
        let input = try programStream(c, descriptor: 0, format: format, lengths: [4096, 4096], iocs: [false, false], tag: 2)
        let output = try programStream(c, descriptor: 4, format: format, lengths: [4096, 4096], iocs: [false, false], tag: 1)
        // The output's BDL points at the input's pages, `outputAhead` bytes behind where the input writes.
        let a = input.entries[0].address.rawValue
        try c.memory.write(output.bdl, bytes: BDLEntry(address: a, length: outputAhead, interruptOnCompletion: false).bytes
                           + BDLEntry(address: a + UInt64(outputAhead), length: 4096 - outputAhead, interruptOnCompletion: false).bytes)
        c.write16(c.sd(4, HDARegister.SD.lvi), 1)
        c.write32(c.sd(4, HDARegister.SD.cbl), 4096)
        c.run(0)
        c.advance(frames: 5)
        c.run(4)
        drive(c, frames: frames, batched: batched)
        #expect(c.checkInvariants() == [])
        return (codec.received, try c.memory.read(c.memory.base, count: Int(c.memory.sizeInBytes)))
    }

    @Test("An output engine that plays what an input engine records in the same pages gets the same bytes batched as stepped")
    func aliasedBuffers() throws {
        for ahead: UInt32 in [128, 512, 2048] {   // entries start 128-byte aligned
            let stepped = try run(frames: 600, batched: false, outputAhead: ahead)
            let batched = try run(frames: 600, batched: true, outputAhead: ahead)
            #expect(stepped.0[1]?.count == 2400, "the output played every frame")
            #expect(stepped.0 == batched.0, "output \(ahead) bytes behind")
            #expect(stepped.1 == batched.1)
        }
    }

    @Test("An output engine whose buffer holds the position buffer plays the positions of every frame, batched as stepped; buffers that do not meet stay batched")
    func positionBufferInsideAnOutput() throws {
        func run(batched: Bool, alias: Bool) throws -> (received: [UInt8], calls: Int) {
            let c = HDAController(memory: GuestMemory(pages: 64))
            let codec = TestCodec()
            c.attach(codec, at: 0)
            c.bringUp()
            let format = StreamFormat(rate: 48000, bits: 16, channels: 2)
            let input = try programStream(c, descriptor: 0, format: format, lengths: [4096, 4096], iocs: [false, false], tag: 2)
            let output = try programStream(c, descriptor: 4, format: format, lengths: [4096, 4096], iocs: [false, false], tag: 1)
            _ = input
            // The position buffer: at the start of the output's first entry, or a page of its own.
            let dpl = alias ? output.entries[0].address : try c.memory.allocate(pages: 1, contiguous: true)[0]
            c.write32(HDARegister.dpubase, dpl.high32)
            c.write32(HDARegister.dplbase, dpl.low32 | 1)
            c.run(0)
            c.run(4)
            drive(c, frames: 300, batched: batched)
            #expect(c.checkInvariants() == [])
            return (codec.received[1] ?? [], codec.calls.count)
        }
        let stepped = try run(batched: false, alias: true), batched = try run(batched: true, alias: true)
        #expect(stepped.received.count == 1200)
        #expect(stepped.received == batched.received)
        // Unaliased, one advance of 300 frames reaches the codec in a few pieces, not 300.
        let apart = try run(batched: true, alias: false)
        #expect(apart.received.count == 1200)
        #expect(apart.calls < 10)
        #expect(batched.calls >= 300)
    }
}

@Suite("SRST on a running engine")
struct ResetWhileRunningTests {
    /// An input and an output engine running, then SRST written on one of them while it
    /// runs (RUN still 1), and time advanced past the latch (two frames on this profile):
    /// batched or stepped.
    func run(resetOutput: Bool, batched: Bool) throws -> (received: [UInt8: [UInt8]], memory: [UInt8], lpib: [UInt32]) {
        let c = HDAController(profile: .skylakePCH, memory: GuestMemory(pages: 64))
        #expect(c.profile.srstFrames == 2)
        let codec = TestCodec(transmitTags: [2], seed: 9)
        c.attach(codec, at: 0)
        c.bringUp()
        let format = StreamFormat(rate: 48000, bits: 16, channels: 2)
        let input = 0, output = EngineLayout(c.profile.gcap).indices(of: .output).first!
        _ = try programStream(c, descriptor: input, format: format, lengths: [4096, 4096], iocs: [false, false], tag: 2)
        _ = try programStream(c, descriptor: output, format: format, lengths: [4096, 4096], iocs: [false, false], tag: 1)
        c.run(input)
        c.run(output)
        c.advance(frames: 10)
        let ctl = c.sd(resetOutput ? output : input, HDARegister.SD.ctl)
        c.write8(ctl, c.read8(ctl) | UInt8(StreamControl.srst))
        drive(c, frames: 200, batched: batched)
        #expect(c.checkInvariants() == [])
        let memory = try c.memory.read(c.memory.base, count: Int(c.memory.sizeInBytes))
        return (codec.received, memory, [c.lpib(input), c.lpib(output)])
    }

    @Test("An engine whose SRST latches while it runs moves the same samples batched as stepped", arguments: [false, true])
    func resetWhileRunning(resetOutput: Bool) throws {
        let stepped = try run(resetOutput: resetOutput, batched: false), batched = try run(resetOutput: resetOutput, batched: true)
        #expect(stepped.received == batched.received)
        #expect(stepped.memory == batched.memory)
        #expect(stepped.lpib == batched.lpib)
        // The reset engine moved one frame after the write (the latch comes two frames later)
        // and stopped; the other ran on.
        #expect(stepped.lpib[resetOutput ? 1 : 0] == 0 && stepped.lpib[resetOutput ? 0 : 1] == 210 * 4)
        if resetOutput { #expect(stepped.received[1]?.count == 11 * 4) }
    }
}

@Suite("The position buffer inside the CORB")
struct PositionBufferInCorbTests {
    /// A running output engine whose position the position buffer shows inside the CORB,
    /// and CORBWP moved so that the command path reads those entries as verbs.
    func run(batched: Bool) throws -> [UInt32] {
        let c = HDAController(memory: GuestMemory(pages: 64))
        let codec = TestCodec()
        c.attach(codec, at: 0)
        c.bringUp()
        _ = try programStream(c, descriptor: 4, format: StreamFormat(rate: 48000, bits: 16, channels: 2),
                              lengths: [4096, 4096], iocs: [false, false], tag: 1)
        let (corb, _) = try setUpRings(c)
        // Descriptor 4's position lands in CORB entries 8 and 9 (DPL + 4 x 8).
        c.write32(HDARegister.dpubase, corb.high32)
        c.write32(HDARegister.dplbase, corb.low32 | 1)
        c.run(4)
        c.advance(frames: 3)
        c.write16(HDARegister.corbwp, 12)
        drive(c, frames: 40, batched: batched)
        #expect(c.checkInvariants() == [])
        return codec.verbs
    }

    @Test("Verbs the CORB reads from where the position buffer is written are the same batched as stepped")
    func positionsReadAsVerbs() throws {
        let stepped = try run(batched: false), batched = try run(batched: true)
        #expect(stepped.count == 12)
        #expect(stepped == batched)
    }
}
