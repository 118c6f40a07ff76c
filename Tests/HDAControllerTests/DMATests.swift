import HDAController
import HDAudio
import Testing
import TestSupport

/// Formats of both rate families, with blocks that do and do not divide the entry sizes.
let dmaFormats = ["48000/16/2", "44100/16/2", "96000/24/2", "8000/8/1", "176400/32/4", "22050/20/6", "32000/16/3",
                  "11025/24/1", "192000/16/8"]
/// Entry lengths that are not multiples of most block sizes, so blocks straddle entries.
let dmaLengths: [UInt32] = [384, 1000, 256, 1408]

/// Where a descriptor of each direction lives in a profile (the first of its kind).
func descriptor(_ p: ControllerProfile, _ kind: EngineKind) -> Int? {
    let range = p.layout.indices(of: kind)
    return range.isEmpty ? nil : range.lowerBound
}

@Suite("Stream DMA")
struct DMATests {
    /// Runs one output stream for `frames` and checks bytes, LPIB and the position buffer.
    func checkOutput(_ p: ControllerProfile, descriptor n: Int, control: UInt32, format text: String) throws {
        let format = StreamFormat(compact: text)!
        let c = HDAController(profile: p, memory: GuestMemory(pages: 64))
        let codec = TestCodec(), other = TestCodec()
        c.attach(codec, at: 0)
        c.attach(other, at: 2)
        c.bringUp()
        let position = try c.memory.allocate(pages: 1, contiguous: true)[0]
        c.write32(HDARegister.dplbase, position.low32 | 1)
        c.write32(HDARegister.dpubase, position.high32)
        let s = try programStream(c, descriptor: n, format: format, lengths: dmaLengths, tag: 3, control: control)
        let logical = try s.logicalBuffer(c.memory)
        c.run(n)
        #expect(c.status(n).contains(.fifoReady))
        var frames: UInt64 = 0
        // A few uneven chunks, then on until the buffer has wrapped at least twice.
        var chunks: [UInt64] = [1, 2, 157, 1000]
        while chunks.count < 5
                || blocks(format, frames: chunks.reduce(0, +)) * UInt64(format.blockBytes) <= 2 * UInt64(s.cbl) {
            chunks.append(1840)
        }
        for chunk in chunks {
            c.advance(frames: chunk)
            frames += chunk
            let bytes = Int(blocks(format, frames: frames)) * format.blockBytes
            func matches(_ data: [UInt8]) -> Bool {
                data.count == bytes && data.indices.allSatisfy { data[$0] == logical[$0 % logical.count] }
            }
            let same = matches(codec.received[3, default: []]), heard = matches(other.received[3, default: []])
            #expect(same, "\(text) bytes after \(frames) frames")
            #expect(heard, "every codec hears the stream")
            #expect(c.lpib(n) == UInt32(bytes % Int(s.cbl)), "\(text) LPIB after \(frames) frames")
            #expect(try c.memory.readUInt32(position.adding(UInt64(n * 8))!) == UInt32(bytes % Int(s.cbl)),
                    "position buffer")
            #expect(c.checkInvariants() == [])
        }
        #expect(frames > 0 && blocks(format, frames: frames) * UInt64(format.blockBytes) > UInt64(s.cbl),
                "the test wraps the buffer")
        #expect(c.statistics(ofDescriptor: n).bytesMoved == blocks(format, frames: frames) * UInt64(format.blockBytes))
    }

    /// Runs one input stream and checks what landed in guest memory, LPIB and the position buffer.
    func checkInput(_ p: ControllerProfile, descriptor n: Int, control: UInt32, format text: String) throws {
        let format = StreamFormat(compact: text)!
        let c = HDAController(profile: p, memory: GuestMemory(pages: 64))
        let silent = TestCodec(), source = TestCodec(transmitTags: [5], seed: 9)
        c.attach(silent, at: 0)
        c.attach(source, at: 1)
        c.bringUp()
        let position = try c.memory.allocate(pages: 1, contiguous: true)[0]
        c.write32(HDARegister.dplbase, position.low32 | 1)
        c.write32(HDARegister.dpubase, position.high32)
        let s = try programStream(c, descriptor: n, format: format, lengths: dmaLengths, tag: 5, control: control)
        c.run(n)
        var frames: UInt64 = 0
        for chunk: UInt64 in [1, 3, 500, 2000] {
            c.advance(frames: chunk)
            frames += chunk
            let bytes = Int(blocks(format, frames: frames)) * format.blockBytes
            let sent = source.sent[5, default: []]
            #expect(sent.count == bytes, "\(text): the codec was asked for exactly the cadence's blocks")
            let logical = try s.logicalBuffer(c.memory)
            let cbl = Int(s.cbl)
            for offset in 0..<min(cbl, bytes) {
                let last = (bytes - 1 - offset) / cbl * cbl + offset   // the last stream byte at this offset
                if logical[offset] != sent[last] {
                    Issue.record("\(text): buffer offset \(offset) holds \(logical[offset]), expected \(sent[last])")
                    break
                }
            }
            #expect(c.lpib(n) == UInt32(bytes % cbl))
            #expect(try c.memory.readUInt32(position.adding(UInt64(n * 8))!) == UInt32(bytes % cbl))
            #expect(c.checkInvariants() == [])
        }
        #expect(c.sdiBitsCarried[1] == blocks(format, frames: frames) * UInt64(format.linkBitsPerBlock))
        #expect(c.statistics(ofDescriptor: n).silentBlocks == 0)
    }

    @Test("Output engines deliver exactly the buffer's bytes; LPIB and the position buffer follow, wrapping at CBL",
          arguments: profileNames, dmaFormats)
    func output(name: String, format: String) throws {
        let p = profile(name)
        try checkOutput(p, descriptor: descriptor(p, .output)!, control: 0, format: format)
    }

    @Test("Input engines write exactly the codec's bytes; LPIB and the position buffer follow, wrapping at CBL",
          arguments: profileNames, dmaFormats)
    func input(name: String, format: String) throws {
        let p = profile(name)
        try checkInput(p, descriptor: descriptor(p, .input)!, control: 0, format: format)
    }

    @Test("Bidirectional engines follow SDnCTL.DIR", arguments: ["48000/16/2", "44100/24/2", "32000/16/3"])
    func bidirectional(format: String) throws {
        let p = ControllerProfile.bidirectional4SDO
        let n = descriptor(p, .bidirectional)!
        try checkOutput(p, descriptor: n, control: StreamControl.dir, format: format)
        try checkInput(p, descriptor: n, control: 0, format: format)
    }

    @Test("1 s of link time carries exactly the rate's blocks", arguments: [44100, 48000, 11025, 32000, 176400, 6000])
    func oneSecond(rate: Int) throws {
        let c = HDAController(memory: GuestMemory(pages: 64))
        c.bringUp()
        let format = StreamFormat(rate: UInt32(rate), bits: 16, channels: 2)
        _ = try programStream(c, descriptor: 4, format: format, lengths: [4096, 4096], tag: 1)
        c.run(4)
        c.advance(frames: 48_000)
        #expect(c.statistics(ofDescriptor: 4).blocksMoved == UInt64(rate))
    }

    @Test("An input stream no codec sends is recorded as silence")
    func silence() throws {
        let c = HDAController(memory: GuestMemory(pages: 64))
        c.attach(TestCodec(transmitTags: [2]), at: 0)
        c.bringUp()
        let s = try programStream(c, descriptor: 0, format: StreamFormat(rate: 48000, bits: 16, channels: 2),
                                  lengths: [256, 256], tag: 7)
        c.run(0)
        c.advance(frames: 200)
        #expect(try s.logicalBuffer(c.memory).allSatisfy { $0 == 0 })
        #expect(c.statistics(ofDescriptor: 0).silentBlocks == 200)
    }

    @Test("RUN 1 -> 0 stops at the frame boundary, reads 0, and RUN again resumes at LPIB")
    func stopAndResume() throws {
        let c = HDAController(memory: GuestMemory(pages: 64))
        let codec = TestCodec()
        c.attach(codec, at: 0)
        c.bringUp()
        let format = StreamFormat(rate: 48000, bits: 16, channels: 2)
        let s = try programStream(c, descriptor: 4, format: format, lengths: [512, 512], tag: 1)
        let logical = try s.logicalBuffer(c.memory)
        c.run(4)
        c.advance(frames: 10)
        c.stop(4)
        #expect(c.read32(c.sd(4, HDARegister.SD.ctl)) & StreamControl.run == 0)
        #expect(!c.status(4).contains(.fifoReady))
        c.advance(frames: 100)
        #expect(c.lpib(4) == 40)
        #expect(codec.received[1]?.count == 40)
        c.run(4)
        c.advance(frames: 300)
        #expect(c.lpib(4) == (310 * 4) % 1024)
        let same = codec.received[1]! == (0..<(310 * 4)).map { logical[$0 % 1024] }
        #expect(same)
        #expect(c.checkInvariants() == [])
    }

    @Test("Writes to CBL, LVI, FMT and BDPL are ignored while the engine runs")
    func lockedWhileRunning() throws {
        let c = HDAController(memory: GuestMemory(pages: 64))
        c.bringUp()
        _ = try programStream(c, descriptor: 4, format: StreamFormat(rate: 48000, bits: 16, channels: 2),
                              lengths: [512, 512], tag: 1)
        c.run(4)
        c.write32(c.sd(4, HDARegister.SD.cbl), 4)
        c.write16(c.sd(4, HDARegister.SD.lvi), 0)
        c.write16(c.sd(4, HDARegister.SD.fmt), 0x0000)
        #expect(c.read32(c.sd(4, HDARegister.SD.cbl)) == 1024)
        #expect(c.read16(c.sd(4, HDARegister.SD.lvi)) == 1)
        #expect(c.read16(c.sd(4, HDARegister.SD.fmt)) == 0x0011)
    }

    @Test("A bidirectional engine keeps the direction latched at RUN; DIR written while running takes effect at the next RUN")
    func dirLatchedAtRun() throws {
        let p = ControllerProfile.bidirectional4SDO
        let n = p.layout.indices(of: .bidirectional).lowerBound
        let codec = TestCodec(transmitTags: [3])
        let c = HDAController(profile: p, memory: GuestMemory(pages: 64))
        c.attach(codec, at: 0)
        c.bringUp()
        _ = try programStream(c, descriptor: n, format: StreamFormat(rate: 48000, bits: 16, channels: 2),
                              lengths: [512, 512], tag: 3, control: StreamControl.dir)
        c.run(n)
        c.advance(frames: 10)
        c.write32(c.sd(n, HDARegister.SD.ctl), c.read32(c.sd(n, HDARegister.SD.ctl)) & 0xFF_FFFF & ~StreamControl.dir)
        c.advance(frames: 10)
        #expect(codec.received[3, default: []].count == 80 && codec.sent[3] == nil, "still output")
        c.stop(n)
        c.run(n)
        c.advance(frames: 10)
        #expect(codec.received[3, default: []].count == 80 && codec.sent[3, default: []].count == 40, "now input")
        #expect(c.checkInvariants() == [])
    }

    @Test("A buffer or BDL address whose range wraps past 2^64 is a descriptor error, never a host access",
          arguments: ["buffer", "bdl", "bufferTopOfSpace"])
    func addressWrap(_ which: String) throws {
        let (c, s) = try controllerWithStream()
        switch which {
        case "buffer": try setEntry(c, s, 1, address: UInt64.max - 127, length: 512)
        case "bufferTopOfSpace": try setEntry(c, s, 0, address: 0xFFFF_FFFF_FFFF_FF00, length: 0x200)
        default:
            c.write32(c.sd(4, HDARegister.SD.bdpl), 0xFFFF_FF80)
            c.write32(c.sd(4, HDARegister.SD.bdpu), 0xFFFF_FFFF)
        }
        c.run(4)
        #expect(c.status(4).contains(.descriptorError))
        #expect(c.read32(c.sd(4, HDARegister.SD.ctl)) & StreamControl.run == 0 && c.interruptAsserted)
        c.advance(frames: 300)
        #expect(c.statistics(ofDescriptor: 4).bytesMoved == 0 && c.lpib(4) == 0)
        #expect(c.checkInvariants() == [])
    }

    @Test("Entries past LVI are never fetched: garbage after the last valid entry does not matter")
    func boundedByLvi() throws {
        let (c, s) = try controllerWithStream()
        try setEntry(c, s, 2, address: 0, length: 0)          // would be a descriptor error if fetched
        try setEntry(c, s, 3, address: UInt64.max, length: 1)
        c.run(4)
        #expect(!c.status(4).contains(.descriptorError))
        c.advance(frames: 256 * 3)
        #expect(c.statistics(ofDescriptor: 4).bytesMoved == 256 * 3 * 4)
        #expect(c.statistics(ofDescriptor: 4).completions == 6)
        #expect(c.checkInvariants() == [])
    }

    @Test("A 32-bit write that clears old status and sets RUN on a bad BDL keeps the new DESE")
    func dwordWriteKeepsNewDese() throws {
        let (c, s) = try controllerWithStream()
        try setEntry(c, s, 0, address: s.entries[0].address.rawValue, length: 0)
        let ctl = c.read32(c.sd(4, HDARegister.SD.ctl)) & 0xFF_FFFF
        c.write32(c.sd(4, HDARegister.SD.ctl), ctl | StreamControl.run | UInt32(StreamStatus.interruptCauses.rawValue) << 24)
        #expect(c.status(4).contains(.descriptorError))
        c.write8(c.sd(4, HDARegister.SD.sts), StreamStatus.descriptorError.rawValue)
        #expect(!c.status(4).contains(.descriptorError) && !c.interruptAsserted)
    }

    @Test("Without 64OK every upper address register reads 0, so DMA stays below 4 GiB")
    func no64Bit() throws {
        let gcap = GlobalCapabilities(outputEngines: 1, inputEngines: 1, bidirectionalEngines: 0, sdoLines: 1, supports64Bit: false)
        let profile = ControllerProfile(name: "no-64-bit", summary: "32-bit only", gcap: gcap, pciVendor: 0x8086, pciDevice: 0x1,
                                        revision: 0, ssyncOffset: HDARegister.ssyncSpec, crstExitFrames: 1, srstFrames: 1)
        let c = HDAController(profile: profile, memory: GuestMemory(pages: 4))
        c.bringUp()
        for offset in [HDARegister.corbubase, HDARegister.rirbubase, HDARegister.dpubase, c.sd(0, HDARegister.SD.bdpu), c.sd(1, HDARegister.SD.bdpu)] {
            c.write32(offset, 0xFFFF_FFFF)
            #expect(c.read32(offset) == 0, "offset \(offset)")
        }
    }

    @Test("The position buffer is written in the last bytes of RAM, but not where it runs past the end of RAM or lies above it")
    func positionBufferAtRamEnd() throws {
        let (c, _) = try controllerWithStream(pages: 16)
        let ramEnd = c.memory.base.rawValue + c.memory.sizeInBytes
        c.write32(HDARegister.dplbase, UInt32(truncatingIfNeeded: ramEnd - 128) | 1)   // 8 engines x 8 = 64 bytes: fits
        c.run(4)
        c.advance(frames: 3)
        #expect(c.positionBufferErrors == 0)
        #expect(try c.memory.readUInt32(GuestAddress(ramEnd - 128 + 4 * 8)) == 12)
        c.write32(HDARegister.dplbase, UInt32(truncatingIfNeeded: ramEnd) | 1)
        c.advance(frames: 1)
        #expect(c.positionBufferErrors == 1)

        // 30 descriptors x 8 = 240 bytes: at RAM end - 128 the buffer straddles the end of RAM.
        let gcap = GlobalCapabilities(outputEngines: 15, inputEngines: 15, bidirectionalEngines: 0, sdoLines: 1, supports64Bit: true)
        let wide = ControllerProfile(name: "thirty-descriptors", summary: "30 descriptors", gcap: gcap, pciVendor: 0x8086, pciDevice: 0x2,
                                     revision: 0, ssyncOffset: HDARegister.ssyncSpec, crstExitFrames: 1, srstFrames: 1)
        let d = HDAController(profile: wide, memory: GuestMemory(pages: 4))
        d.bringUp()
        let end = d.memory.base.rawValue + d.memory.sizeInBytes
        d.write32(HDARegister.dplbase, UInt32(truncatingIfNeeded: end - 128) | 1)
        try d.memory.write(GuestAddress(end - 128), bytes: [UInt8](repeating: 0xAA, count: 128))
        d.advance(frames: 2)
        #expect(d.positionBufferErrors > 0)
        #expect(try d.memory.read(GuestAddress(end - 128), count: 128) == [UInt8](repeating: 0xAA, count: 128))
        #expect(d.checkInvariants() == [])
    }
}
