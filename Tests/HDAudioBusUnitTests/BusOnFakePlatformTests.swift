import HDAudio
import HDAudioBus
import Testing

/// The DDI's rules checked against a fake platform: no controller model, only registers that
/// answer as each test says and a log of what the bus did to them.
@Suite("The bus on a fake platform")
struct BusOnFakePlatformTests {
    static let stereo = StreamFormat(rate: 48000, bits: 16, channels: 2)
    /// Output engine 0 of a 4-in, 4-out controller: descriptor 4 (inputs come first).
    static let firstOutput = 4

    func ctl(_ index: Int) -> UInt32 { HDARegister.streamDescriptor(index) + HDARegister.SD.ctl }

    @Test("Start-up enters and leaves CRST, enables the position buffer on its own page and starts both command rings")
    func startUp() throws {
        let fake = FakePlatform()
        let bus = try HDAudioBus(platform: fake)
        let writes = fake.writes
        let gctl = writes.filter { $0.offset == HDARegister.gctl }.map { $0.value & GlobalControl.crst }
        #expect(Array(gctl.prefix(2)) == [0, GlobalControl.crst])
        let dpl = try #require(writes.last { $0.offset == HDARegister.dplbase })
        #expect(dpl.value & 1 == 1 && UInt64(dpl.value & ~1) == bus.configuration.positionBuffer)
        #expect(fake.peek(HDARegister.corbctl, width: 1) & UInt32(CorbControl.run) != 0)
        #expect(fake.peek(HDARegister.rirbctl, width: 1) & UInt32(RirbControl.dmaEnable) != 0)
        #expect(fake.pagesInUse == 2)
        #expect(bus.configuration.codecMask == 0b1 && bus.configuration.layout.outputs == 4)
    }

    @Test("A controller whose CRST never reads back 1 is STATUS_DEVICE_NOT_READY, and no page is left allocated")
    func crstNeverCompletes() {
        let fake = FakePlatform(readHook: { offset, _, stored in offset == HDARegister.gctl ? stored & ~GlobalControl.crst : nil })
        #expect(fails(with: .deviceNotReady) { () throws(NTStatus) in try HDAudioBus(platform: fake) })
        #expect(fake.pagesInUse == 0)
    }

    @Test("A CORB read pointer that never resets fails the start with DEVICE_NOT_READY and frees both pages")
    func corbResetNeverLatches() {
        let fake = FakePlatform(readHook: { offset, _, stored in offset == HDARegister.corbrp ? 0 : nil })
        #expect(fails(with: .deviceNotReady) { () throws(NTStatus) in try HDAudioBus(platform: fake) })
        #expect(fake.pagesInUse == 0)
        #expect(fake.peek(HDARegister.dplbase, width: 4) == 0)
    }

    @Test("A page size that is not a multiple of 128 bytes is STATUS_UNSUCCESSFUL before any register is touched")
    func oddPageSize() {
        let fake = FakePlatform(pageSize: 1000)
        #expect(fails(with: .unsuccessful) { () throws(NTStatus) in try HDAudioBus(platform: fake) })
        #expect(fake.log.isEmpty)
    }

    @Test("AllocateRenderDmaEngine with an invalid format is INVALID_PARAMETER and writes no register")
    func invalidFormatTouchesNothing() throws {
        let fake = FakePlatform()
        let bus = try HDAudioBus(platform: fake)
        let client = try bus.openInterface(codecAddress: 0, version: .v2)
        fake.clearLog()
        let bad = StreamFormat(sampleRate: 384_000, validBitsPerSample: 16, containerSize: 16, numberOfChannels: 2)
        #expect(fails(with: .invalidParameter) { () throws(NTStatus) in try client.allocateRenderDmaEngine(format: bad, stripe: false) })
        #expect(fake.writes.isEmpty)
        #expect((try bus.resources()).engines.isEmpty)
    }

    @Test("AllocateRenderDmaEngine takes the first output descriptor and runs its SRST handshake: SRST written 1, read 1, written 0, read 0")
    func allocationResetsTheEngine() throws {
        let fake = FakePlatform()
        let bus = try HDAudioBus(platform: fake)
        let client = try bus.openInterface(codecAddress: 0, version: .v2)
        fake.clearLog()
        _ = try client.allocateRenderDmaEngine(format: Self.stereo, stripe: false)
        let srst = UInt32(StreamControl.srst)
        let onCtl = fake.log.filter { $0.offset == ctl(Self.firstOutput) }
        let setAt = try #require(onCtl.firstIndex { $0.kind == .write && $0.value & srst != 0 })
        let seenSet = try #require(onCtl[setAt...].firstIndex { $0.kind == .read && $0.value & srst != 0 })
        let clearAt = try #require(onCtl[seenSet...].firstIndex { $0.kind == .write && $0.value & srst == 0 })
        #expect(onCtl[clearAt...].contains { $0.kind == .read && $0.value & srst == 0 })
        #expect((try bus.resources()).engines.map(\.index) == [Self.firstOutput])
    }

    @Test("An SRST that never reads back 1 makes allocation STATUS_DEVICE_NOT_READY and releases the engine and its tag")
    func srstNeverLatches() throws {
        let output = HDARegister.streamDescriptor(Self.firstOutput)
        let fake = FakePlatform(readHook: { offset, _, stored in offset == output ? stored & ~StreamControl.srst : nil })
        let bus = try HDAudioBus(platform: fake)
        let client = try bus.openInterface(codecAddress: 0, version: .v2)
        #expect(fails(with: .deviceNotReady) { () throws(NTStatus) in try client.allocateRenderDmaEngine(format: Self.stereo, stripe: false) })
        let r = (try bus.resources())
        #expect(r.engines.isEmpty && r.tags.values.allSatisfy(\.isEmpty))
        #expect(fake.stalledMicroseconds >= HDAudioBus.handshakeLimitMicroseconds)
    }

    @Test("SetDmaEngineState with one bad handle among good ones is INVALID_HANDLE and writes no register")
    func badHandleChangesNothing() throws {
        let fake = FakePlatform()
        let bus = try HDAudioBus(platform: fake)
        let client = try bus.openInterface(codecAddress: 0, version: .v2)
        let a = try client.allocateRenderDmaEngine(format: Self.stereo, stripe: false)
        _ = try client.allocateDmaBuffer(a.handle, requestedBufferSize: 8192)
        try client.setDmaEngineState(.stop, handles: [a.handle])
        fake.clearLog()
        let forged = DmaEngineHandle(rawValue: a.handle.rawValue ^ 0x100)
        #expect(fails(with: .invalidHandle) { () throws(NTStatus) in try client.setDmaEngineState(.run, handles: [a.handle, forged]) })
        #expect(fake.writes.isEmpty)
    }

    @Test("Run holds the engines in SSYNC (0x34 on an ICH6), sets each RUN, waits for FIFORDY, then releases them in one SSYNC write")
    func runThroughSsync() throws {
        let fake = FakePlatform()
        let bus = try HDAudioBus(platform: fake)
        #expect(bus.configuration.ssyncOffset == HDARegister.ssyncICH)
        let client = try bus.openInterface(codecAddress: 0, version: .v2)
        let a = try client.allocateRenderDmaEngine(format: Self.stereo, stripe: false)
        let b = try client.allocateRenderDmaEngine(format: Self.stereo, stripe: false)
        for h in [a.handle, b.handle] {
            _ = try client.allocateDmaBuffer(h, requestedBufferSize: 8192)
            try client.setDmaEngineState(.stop, handles: [h])
        }
        fake.clearLog()
        try client.setDmaEngineState(.run, handles: [a.handle, b.handle])
        let both: UInt32 = 1 << 4 | 1 << 5
        let writes = fake.writes
        let ssync = writes.enumerated().filter { $0.element.offset == HDARegister.ssyncICH }
        #expect(ssync.count == 2)
        let hold = try #require(ssync.first), release = try #require(ssync.last)
        #expect(hold.element.value & both == both && release.element.value & both == 0)
        let runs = writes.enumerated().filter { [ctl(4), ctl(5)].contains($0.element.offset) && $0.element.value & StreamControl.run != 0 }
        #expect(runs.count == 2 && runs.allSatisfy { $0.offset > hold.offset && $0.offset < release.offset })
        #expect((try bus.resources()).engines.allSatisfy { $0.state == .run })
    }

    @Test("The SSYNC offset follows the PCI id: 0x38 on a controller that is not an Intel ICH")
    func ssyncAtSpecOffset() throws {
        let fake = FakePlatform(pci: PCIIdentity(vendorId: 0x1B36, deviceId: 0xA2A1, revision: 0))
        let bus = try HDAudioBus(platform: fake)
        #expect(bus.configuration.ssyncOffset == HDARegister.ssyncSpec)
    }

    @Test("FIFORDY that never comes makes Run STATUS_DEVICE_NOT_READY and leaves RUN cleared")
    func fifoNeverReady() throws {
        let fake = FakePlatform(fifoReadyOnRun: false)
        let bus = try HDAudioBus(platform: fake)
        let client = try bus.openInterface(codecAddress: 0, version: .v2)
        let a = try client.allocateRenderDmaEngine(format: Self.stereo, stripe: false)
        _ = try client.allocateDmaBuffer(a.handle, requestedBufferSize: 8192)
        try client.setDmaEngineState(.stop, handles: [a.handle])
        #expect(fails(with: .deviceNotReady) { () throws(NTStatus) in try client.setDmaEngineState(.run, handles: [a.handle]) })
        #expect(fake.peek(ctl(Self.firstOutput), width: 1) & StreamControl.run == 0)
        #expect((try bus.resources()).engines.first?.state == .stop)
    }

    @Test("On 16 KiB pages the BDL's entries end at 16 KiB page boundaries, and CBL and LVI say so", arguments: [4096, 16384])
    func bdlFollowsPageSize(pageSize: Int) throws {
        let fake = FakePlatform(pageSize: pageSize)
        let bus = try HDAudioBus(platform: fake)
        let client = try bus.openInterface(codecAddress: 0, version: .v2)
        let a = try client.allocateRenderDmaEngine(format: Self.stereo, stripe: false)
        let buffer = try client.allocateDmaBuffer(a.handle, requestedBufferSize: 3 * pageSize)
        #expect(buffer.allocatedBufferSize == 3 * pageSize && buffer.mdl.pages.count == 3)
        let sd = HDARegister.streamDescriptor(Self.firstOutput)
        let lvi = Int(fake.peek(sd + HDARegister.SD.lvi, width: 2))
        #expect(fake.peek(sd + HDARegister.SD.cbl, width: 4) == UInt32(3 * pageSize) && lvi == 2)
        let bdl = UInt64(fake.peek(sd + HDARegister.SD.bdpu, width: 4)) << 32 | UInt64(fake.peek(sd + HDARegister.SD.bdpl, width: 4))
        let bytes = try #require(fake.readMemory(bdl, count: (lvi + 1) * BDLEntry.size))
        let entries = (0...lvi).map { BDLEntry(bytes: bytes[($0 * BDLEntry.size)...]) }
        #expect(entries.map(\.address) == buffer.mdl.pages)
        #expect(entries.allSatisfy { Int($0.length) == pageSize })
    }
}
