import Azalia
import HDAController
import HDAudio
import HDAudioBus
import Synchronization
import Testing

// Independent review of the bus driver against the reference (hd-audio.md), the seeds and
// the issue texts. Tests of behaviour found wrong assert the documented behaviour and are
// disabled with the reason; the others are passing probes.

/// Writes raw BDL entries (absolute address, length, IOC) into a BDL page.
private func rvWriteBdl(_ system: AzaliaSystem, at page: UInt64, _ entries: [(UInt64, UInt32, Bool)]) {
    var bytes: [UInt8] = []
    for (address, length, ioc) in entries {
        bytes += BDLEntry(address: address, length: length, interruptOnCompletion: ioc).bytes
    }
    system.platform.writeMemory(page, bytes: bytes)
}

/// Reads `count` BDL entries back from guest memory.
private func rvReadBdl(_ system: AzaliaSystem, at page: UInt64, count: Int) -> [BDLEntry]? {
    guard let bytes = system.platform.readMemory(page, count: count * BDLEntry.size) else { return nil }
    return (0..<count).map { BDLEntry(bytes: bytes[($0 * BDLEntry.size)..<(($0 + 1) * BDLEntry.size)]) }
}

/// The rules of issue 5 for a legal AllocateDmaBuffer size, written independently of
/// `DmaBufferLayout`: a whole number of blocks; with two notifications a midpoint that is
/// a whole number of blocks and 128-byte aligned; describable by 2 to 256 entries that
/// each start 128-byte aligned in a buffer of scattered 4 KiB pages.
private func rvIsLegal(_ size: Int, block: Int, notifications: Int) -> Bool {
    guard size > 0, size % block == 0 else { return false }
    var entries = (size + 4095) / 4096   // one entry per scattered page
    if notifications == 2 {
        let mid = size / 2
        guard size % 2 == 0, mid % block == 0, mid % 128 == 0 else { return false }
        if mid % 4096 != 0 { entries += 1 }   // the midpoint cuts a page in two
    }
    if entries == 1 {
        // One page: two entries need a 128-byte aligned cut strictly inside the buffer.
        guard size > 128 else { return false }
        entries = 2
    }
    return entries <= 256
}

/// The block (bytes in memory) of a format.
private func rvBlock(_ f: StreamFormat) -> Int { Int(f.numberOfChannels) * Int(f.containerSize) / 8 }

@Suite("Review: bus driver against the reference")
struct BusReviewTests {
    // MARK: interrupts and notifications

    @Test("Every IOC of a V2 buffer is one signal (two notifications, 4 IOCs in 2048 frames)")
    func everyIocOneSignal() throws {
        let system = try makeSystem(.ich6)
        let v2 = try system.openInterface(codecAddress: 0, version: .v2)
        let b = try v2.allocateRenderDmaEngine(format: F.stereo48, stripe: false)
        let buffer = try v2.allocateDmaBufferWithNotification(b.handle, notificationCount: 2, requestedBufferSize: 4096)
        #expect(buffer.allocatedBufferSize == 4096)
        let event = NotificationEvent(name: "b")
        try v2.registerNotificationEvent(b.handle, event: event)
        try v2.setDmaEngineState(.stop, handles: [b.handle]); try v2.setDmaEngineState(.run, handles: [b.handle])
        system.advance(frames: 2048 + 100)
        #expect(event.signalCount == 4)
    }

    @Test("IOCs are never merged, even when another engine's interrupt is already pending as time moves")
    func iocNeverMergedBehindPendingInterrupt() throws {
        let system = try makeSystem(.ich6)
        let v2 = try system.openInterface(codecAddress: 0, version: .v2)
        let b = try v2.allocateRenderDmaEngine(format: F.stereo48, stripe: false)
        _ = try v2.allocateDmaBufferWithNotification(b.handle, notificationCount: 2, requestedBufferSize: 4096)
        let event = NotificationEvent(name: "b")
        try v2.registerNotificationEvent(b.handle, event: event)
        // A BDL client whose BDL goes bad after setup (a guest mistake): its RUN raises DESE.
        let bdl = try system.openInterface(codecAddress: 1, version: .bdl)
        let a = try bdl.allocateRenderDmaEngine(format: F.stereo48, stripe: false)
        let c = try bdl.allocateContiguousDmaBuffer(a.handle, requestedBufferSize: 4096)
        let data = c.dataBuffer.address
        rvWriteBdl(system, at: c.bdlBuffer.address, [(data, 2048, true), (data + 2048, 2048, true)])
        let log = IsrLog()
        _ = try bdl.setupDmaEngineWithBdl(a.handle, bufferLength: 4096, lvi: 1,
                                          isr: { mask, context in log.calls.withLock { $0.append((mask, context, .dirql)) } },
                                          context: 9)
        rvWriteBdl(system, at: c.bdlBuffer.address, [(data, 0, true), (data + 2048, 2048, true)])
        try v2.setDmaEngineState(.stop, handles: [b.handle]); try v2.setDmaEngineState(.run, handles: [b.handle])
        try bdl.setDmaEngineState(.stop, handles: [a.handle]); try bdl.setDmaEngineState(.run, handles: [a.handle])
        system.advance(frames: 2048 + 100)
        #expect(log.masks == [UInt32(StreamStatus.descriptorError.rawValue)])
        #expect(event.signalCount == 4)
    }

    // MARK: start-up

    @Test("A bus start that fails for lack of DMA memory leaves no guest page allocated and no position buffer enabled")
    func startFailureLeaksNothing() throws {
        let memory = GuestMemory(pages: 1)
        let platform = VirtualPlatform(controller: HDAController(profile: .ich6, memory: memory))
        expectStatus(.insufficientResources) { try HDAudioBus(platform: platform) }
        #expect(platform.allocatedPages == 0)
        #expect(platform.read32(HDARegister.dplbase) & 1 == 0)
    }

    @Test("A bus start with no DMA memory at all is INSUFFICIENT_RESOURCES and allocates nothing")
    func startWithoutMemory() throws {
        let memory = GuestMemory(pages: 0)
        let platform = VirtualPlatform(controller: HDAController(profile: .ich6, memory: memory))
        expectStatus(.insufficientResources) { try HDAudioBus(platform: platform) }
        #expect(platform.allocatedPages == 0)
    }

    // MARK: status precedence

    @Test("The IRQL check comes before the handle check in every routine (UNSUCCESSFUL, not INVALID_HANDLE)")
    func irqlBeforeHandle() throws {
        let system = try makeSystem(.ich6)
        let v2 = try system.openInterface(codecAddress: 0, version: .v2)
        let bdl = try system.openInterface(codecAddress: 0, version: .bdl)
        let forged = DmaEngineHandle(rawValue: 0xDEAD_BEEF_0000_0001)
        let event = NotificationEvent()
        try system.atIRQL(.dispatch) {
            expectStatus(.unsuccessful) { try v2.allocateDmaBuffer(forged, requestedBufferSize: 4096) }
            expectStatus(.unsuccessful) { try v2.allocateDmaBufferWithNotification(forged, notificationCount: 3, requestedBufferSize: 0) }
            expectStatus(.unsuccessful) { try v2.freeDmaBuffer(forged) }
            expectStatus(.unsuccessful) { try v2.changeBandwidthAllocation(forged, format: F.invalid[0]) }
            expectStatus(.unsuccessful) { try v2.registerNotificationEvent(forged, event: event) }
            expectStatus(.unsuccessful) { try v2.unregisterNotificationEvent(forged, event: event) }
            expectStatus(.unsuccessful) { try bdl.allocateContiguousDmaBuffer(forged, requestedBufferSize: 0) }
            expectStatus(.unsuccessful) { try bdl.setupDmaEngineWithBdl(forged, bufferLength: 0, lvi: 0, isr: { _, _ in }, context: 0) }
            expectStatus(.unsuccessful) { try bdl.freeContiguousDmaBuffer(forged) }
            // Up to DISPATCH: the handle is checked.
            expectStatus(.invalidHandle) { try v2.freeDmaEngine(forged) }
            expectStatus(.invalidHandle) { try v2.setDmaEngineState(.stop, handles: [forged]) }
            expectStatus(.invalidHandle) { try v2.getLinkPositionRegister(forged) }
        }
        try system.atIRQL(.dirql) {
            expectStatus(.unsuccessful) { try v2.freeDmaEngine(forged) }
            expectStatus(.unsuccessful) { try v2.setDmaEngineState(.stop, handles: []) }
            expectStatus(.unsuccessful) { try v2.getLinkPositionRegister(forged) }
            expectStatus(.unsuccessful) { try v2.getWallClockRegister() }
        }
    }

    @Test("SetDmaEngineState validates every handle before any transition: INVALID_HANDLE wins over INVALID_DEVICE_REQUEST, and nothing changes")
    func handlesBeforeTransitions() throws {
        let system = try makeSystem(.ich6)
        let client = try system.openInterface(codecAddress: 0, version: .base)
        let ready = try client.allocateRenderDmaEngine(format: F.stereo48, stripe: false)
        _ = try client.allocateDmaBuffer(ready.handle, requestedBufferSize: 4096)
        let bare = try client.allocateRenderDmaEngine(format: F.stereo48, stripe: false)   // no buffer
        let other = try system.openInterface(codecAddress: 1, version: .base)
        let foreign = try other.allocateRenderDmaEngine(format: F.stereo48, stripe: false)
        _ = try other.allocateDmaBuffer(foreign.handle, requestedBufferSize: 4096)
        expectStatus(.invalidHandle) { try client.setDmaEngineState(.stop, handles: [ready.handle, bare.handle, foreign.handle]) }
        expectStatus(.invalidDeviceRequest) { try client.setDmaEngineState(.stop, handles: [ready.handle, bare.handle]) }
        expectStatus(.invalidDeviceRequest) { try client.setDmaEngineState(.run, handles: [ready.handle]) }   // Reset -> Run
        expectStatus(.invalidHandle) { try client.setDmaEngineState(.stop, handles: [ready.handle, DmaEngineHandle(rawValue: .max)]) }
        #expect(system.bus.resources().engines.allSatisfy { $0.state == .reset })
        system.advance(frames: 100)
        #expect((0..<8).allSatisfy { i in !system.platform.withController { $0.isMoving(descriptor: i) } })
        // A good list of handles repeated is fine, and Run -> Reset is refused without effect.
        try client.setDmaEngineState(.stop, handles: [ready.handle, ready.handle]); try client.setDmaEngineState(.run, handles: [ready.handle, ready.handle])
        expectStatus(.invalidDeviceRequest) { try client.setDmaEngineState(.reset, handles: [ready.handle]) }
        #expect(system.bus.resources().engines.first { $0.tag == 1 }?.state == .run)
        try client.setDmaEngineState(.pause, handles: [ready.handle])
        try client.setDmaEngineState(.reset, handles: [ready.handle])
        expectStatus(.invalidDeviceRequest) { try client.setDmaEngineState(.run, handles: [ready.handle, ready.handle]) }
    }

    @Test("Handles near the limits (all ones, slot past the table, client 0, another client's bits) are INVALID_HANDLE", arguments: [
        UInt.max, 0, 0xFF, 0x1_0000_00FF, 0xFFFF_FFFF_0000_0100, 0x0000_0001_FFFF_FF00, 0x0000_0000_0000_0105,
    ])
    func forgedHandles(raw: UInt) throws {
        let system = try makeSystem(.ich6)
        let client = try system.openInterface(codecAddress: 0, version: .v2)
        _ = try client.allocateRenderDmaEngine(format: F.stereo48, stripe: false)
        let h = DmaEngineHandle(rawValue: raw)
        expectStatus(.invalidHandle) { try client.freeDmaEngine(h) }
        expectStatus(.invalidHandle) { try client.allocateDmaBuffer(h, requestedBufferSize: 4096) }
        expectStatus(.invalidHandle) { try client.setDmaEngineState(.reset, handles: [h]) }
        #expect(system.bus.checkInvariants().isEmpty)
    }

    // MARK: FreeDmaEngine with each kind of buffer

    @Test("FreeDmaEngine is INVALID_DEVICE_REQUEST while any kind of buffer is held, and frees the engine once it is released")
    func freeEngineWithEachBuffer() throws {
        let system = try makeSystem(.ich6)
        let baseline = system.allocatedPages
        let v2 = try system.openInterface(codecAddress: 0, version: .v2)
        let a = try v2.allocateRenderDmaEngine(format: F.stereo48, stripe: false)
        _ = try v2.allocateDmaBuffer(a.handle, requestedBufferSize: 4096)
        expectStatus(.invalidDeviceRequest) { try v2.freeDmaEngine(a.handle) }
        expectStatus(.invalidDeviceRequest) { try v2.freeDmaBufferWithNotification(a.handle, bufferMdl: MemoryDescriptorList(pages: [], byteCount: 0), bufferSize: 0) }
        try v2.freeDmaBuffer(a.handle)
        let n = try v2.allocateDmaBufferWithNotification(a.handle, notificationCount: 1, requestedBufferSize: 4096)
        expectStatus(.invalidDeviceRequest) { try v2.freeDmaEngine(a.handle) }
        expectStatus(.invalidDeviceRequest) { try v2.freeDmaBuffer(a.handle) }
        try v2.freeDmaBufferWithNotification(a.handle, bufferMdl: n.mdl, bufferSize: n.allocatedBufferSize)
        try v2.freeDmaEngine(a.handle)

        let bdl = try system.openInterface(codecAddress: 0, version: .bdl)
        let b = try bdl.allocateRenderDmaEngine(format: F.stereo48, stripe: false)
        let c = try bdl.allocateContiguousDmaBuffer(b.handle, requestedBufferSize: 4096)
        expectStatus(.invalidDeviceRequest) { try bdl.freeDmaEngine(b.handle) }   // not yet set up
        rvWriteBdl(system, at: c.bdlBuffer.address, [(c.dataBuffer.address, 2048, true), (c.dataBuffer.address + 2048, 2048, true)])
        _ = try bdl.setupDmaEngineWithBdl(b.handle, bufferLength: 4096, lvi: 1, isr: { _, _ in }, context: 0)
        expectStatus(.invalidDeviceRequest) { try bdl.freeDmaEngine(b.handle) }   // set up
        try bdl.setDmaEngineState(.stop, handles: [b.handle])
        expectStatus(.invalidDeviceRequest) { try bdl.freeContiguousDmaBuffer(b.handle) }   // not in reset
        try bdl.setDmaEngineState(.reset, handles: [b.handle])
        try bdl.freeContiguousDmaBuffer(b.handle)
        expectStatus(.invalidDeviceRequest) { try bdl.freeContiguousDmaBuffer(b.handle) }
        try bdl.freeDmaEngine(b.handle)
        #expect(system.allocatedPages == baseline)
        #expect(system.bus.resources().engines.isEmpty)
    }

    // MARK: buffer-size rounding

    static let awkwardFormats: [StreamFormat] = [
        StreamFormat(rate: 48000, bits: 8, channels: 3),     // 3-byte blocks
        StreamFormat(rate: 48000, bits: 16, channels: 3),    // 6
        StreamFormat(rate: 48000, bits: 24, channels: 6),    // 24 (32-bit containers)
        StreamFormat(rate: 48000, bits: 16, channels: 15),   // 30
        StreamFormat(rate: 48000, bits: 32, channels: 13),   // 52
        StreamFormat(rate: 48000, bits: 32, channels: 16),   // 64
    ]

    @Test("Allocated size is the legal size closest to the request (1 byte, awkward sizes, above the largest, Int.max)",
          arguments: awkwardFormats, [0, 1, 2])
    func roundingAtTheExtremes(format: StreamFormat, notifications: Int) throws {
        let system = try makeSystem(.ich6)
        let client = try system.openInterface(codecAddress: 0, version: .v2)
        let a = try client.allocateRenderDmaEngine(format: format, stripe: false)
        let block = rvBlock(format)
        let largest = stride(from: 1 << 20, through: 1, by: -1).first { rvIsLegal($0, block: block, notifications: notifications) }!
        for request in [1, 2, 127, 128, 129, 4095, 4096, 4097, 65536 + 3, 1 << 20, (1 << 20) + 4096, Int.max] {
            let size: Int
            let mdl: MemoryDescriptorList
            if notifications == 0 {
                let r = try client.allocateDmaBuffer(a.handle, requestedBufferSize: request)
                (size, mdl) = (r.allocatedBufferSize, r.mdl)
            } else {
                let r = try client.allocateDmaBufferWithNotification(a.handle, notificationCount: notifications, requestedBufferSize: request)
                #expect(r.offsetFromFirstPage == 0)
                (size, mdl) = (r.allocatedBufferSize, r.mdl)
            }
            #expect(rvIsLegal(size, block: block, notifications: notifications), "request \(request): \(size) is not legal")
            if request >= largest {
                #expect(size == largest, "request \(request) above the largest legal \(largest) got \(size)")
            } else {
                // No legal size strictly closer; ties go to the larger.
                let d = abs(size - request)
                let closer = stride(from: max(1, request - d), through: request + d, by: 1).first { s in
                    rvIsLegal(s, block: block, notifications: notifications) && (abs(s - request) < d || (abs(s - request) == d && s > size))
                }
                #expect(closer == nil, "request \(request) got \(size) but \(closer ?? 0) is closer")
            }
            #expect(mdl.byteCount == size && mdl.byteOffset == 0 && mdl.pages.count == (size + 4095) / 4096)
            // The BDL read back from guest memory: LVI + 1 entries covering the MDL in order.
            let index = try #require(system.engineIndex(tag: 1, .render))
            let lvi = Int(system.sd16(index, HDARegister.SD.lvi))
            #expect(Int(system.sd32(index, HDARegister.SD.cbl)) == size)
            let bdlAddress = UInt64(system.sd32(index, HDARegister.SD.bdpu)) << 32 | UInt64(system.sd32(index, HDARegister.SD.bdpl))
            let entries = try #require(rvReadBdl(system, at: bdlAddress, count: lvi + 1))
            #expect(lvi >= 1 && lvi <= 255)
            var offset = 0
            var iocEnds: [Int] = []
            for e in entries {
                #expect(e.address % 128 == 0 && e.length > 0)
                #expect(e.address == mdl.physicalAddress(ofByte: offset))
                #expect(Int(e.address % 4096) + Int(e.length) <= 4096, "an entry crosses a scattered page")
                offset += Int(e.length)
                if e.interruptOnCompletion { iocEnds.append(offset) }
            }
            #expect(offset == size)
            switch notifications {
            case 0: #expect(iocEnds.isEmpty)
            case 1: #expect(iocEnds == [size])
            default: #expect(iocEnds == [size / 2, size])
            }
            if notifications == 0 { try client.freeDmaBuffer(a.handle) } else {
                try client.freeDmaBufferWithNotification(a.handle, bufferMdl: mdl, bufferSize: size)
            }
        }
    }

    @Test("A request of 0 or below, or a NotificationCount other than 1 or 2, is INVALID_PARAMETER and allocates nothing")
    func badSizesAndCounts() throws {
        let system = try makeSystem(.ich6)
        let client = try system.openInterface(codecAddress: 0, version: .v2)
        let a = try client.allocateRenderDmaEngine(format: F.stereo48, stripe: false)
        let baseline = system.allocatedPages
        for size in [0, -1, Int.min] {
            expectStatus(.invalidParameter) { try client.allocateDmaBuffer(a.handle, requestedBufferSize: size) }
            expectStatus(.invalidParameter) { try client.allocateDmaBufferWithNotification(a.handle, notificationCount: 1, requestedBufferSize: size) }
        }
        for count in [0, 3, -1, Int.max] {
            expectStatus(.invalidParameter) { try client.allocateDmaBufferWithNotification(a.handle, notificationCount: count, requestedBufferSize: 4096) }
        }
        #expect(system.allocatedPages == baseline)
    }

    // MARK: ChangeBandwidthAllocation

    @Test("ChangeBandwidthAllocation failures (INVALID_PARAMETER, BUFFER_TOO_SMALL, INSUFFICIENT_RESOURCES) leave the reservation exactly as it was")
    func changeBandwidthAtomic() throws {
        let system = try makeSystem(.ich6)   // SDO0 budget 0x3C x 16 = 960 bits, OUTSTRMPAY 48 words
        let client = try system.openInterface(codecAddress: 0, version: .base)
        let a = try client.allocateRenderDmaEngine(format: F.stereo48, stripe: false)                                 // 32 bits
        _ = try client.allocateRenderDmaEngine(format: StreamFormat(rate: 48000, bits: 16, channels: 8), stripe: false) // 128
        _ = try client.allocateRenderDmaEngine(format: StreamFormat(rate: 48000, bits: 32, channels: 8), stripe: false) // 256
        let filled = system.bus.resources()
        #expect(filled.sdo[0].used == 32 + 128 + 256)
        expectStatus(.invalidParameter) { try client.changeBandwidthAllocation(a.handle, format: F.invalid[0]) }
        #expect(system.bus.resources() == filled)
        // 192 kHz x 16 ch x 32 bit: 4 x 16 x 4 / 2 = 128 FIFO words > 48.
        expectStatus(.bufferTooSmall) { try client.changeBandwidthAllocation(a.handle, format: StreamFormat(rate: 192_000, bits: 32, channels: 16)) }
        #expect(system.bus.resources() == filled)
        // 96 kHz x 12 ch x 32 bit: 48 FIFO words (fits), 768 bits > the 960 - 384 = 576 left with a's own 32 released.
        expectStatus(.insufficientResources) { try client.changeBandwidthAllocation(a.handle, format: StreamFormat(rate: 96000, bits: 32, channels: 12)) }
        #expect(system.bus.resources() == filled)
        // 96 kHz x 12 ch x 24 bit: 576 bits, exactly what is left once a's own reservation is released.
        let exact = StreamFormat(rate: 96000, bits: 24, channels: 12)
        let converter = try client.changeBandwidthAllocation(a.handle, format: exact)
        #expect(converter == (try ConverterFormat(exact)))
        #expect(system.bus.resources().sdo[0].used == 960)
        expectStatus(.insufficientResources) { try client.allocateRenderDmaEngine(format: F.small, stripe: false) }
        #expect(system.bus.checkInvariants().isEmpty)
    }

    // MARK: the BDL interface's validation of the client's BDL

    enum BadBdl: String, CaseIterable, Sendable {
        case misaligned, sumTooSmall, sumTooLarge, lviBeyondWritten, beforeBuffer, pastBuffer, straddlesEnd, wrapsAddressSpace,
             zeroLength, bdlPage, lengthNotBlocks
    }

    @Test("SetupDmaEngineWithBdl refuses a bad client BDL with INVALID_PARAMETER, programs nothing and keeps the buffer",
          arguments: BadBdl.allCases)
    func badClientBdl(_ kind: BadBdl) throws {
        let system = try makeSystem(.ich6)
        let client = try system.openInterface(codecAddress: 0, version: .bdl)
        let a = try client.allocateRenderDmaEngine(format: StreamFormat(rate: 48000, bits: 16, channels: 3), stripe: false)   // 6-byte blocks
        let c = try client.allocateContiguousDmaBuffer(a.handle, requestedBufferSize: 8192)
        let d = c.dataBuffer.address, end = d + UInt64(c.dataBuffer.length)
        let pages = system.allocatedPages
        var entries: [(UInt64, UInt32, Bool)] = [(d, 3072, true), (d + 4096, 3072, true)]
        var length: UInt32 = 6144
        var lvi: UInt16 = 1
        switch kind {
        case .misaligned: entries[1].0 = d + 4096 + 64
        case .sumTooSmall: length = 6144 + 6
        case .sumTooLarge: length = 6144 - 6
        case .lviBeyondWritten: lvi = 2; length = 6144
        case .beforeBuffer: entries[0].0 = d - 4096
        case .pastBuffer: entries[1].0 = end
        case .straddlesEnd: entries[1] = (end - 1024, 3072, true)
        case .wrapsAddressSpace: entries[1] = (UInt64.max - 127, 3072, true)
        case .zeroLength: entries.append((d, 0, false)); lvi = 2
        case .bdlPage: entries[1].0 = c.bdlBuffer.address
        case .lengthNotBlocks: entries = [(d, 3000, true), (d + 4096, 3001, true)]; length = 6001
        }
        rvWriteBdl(system, at: c.bdlBuffer.address, entries)
        expectStatus(.invalidParameter) {
            try client.setupDmaEngineWithBdl(a.handle, bufferLength: length, lvi: lvi, isr: { _, _ in }, context: 0)
        }
        let index = try #require(system.engineIndex(tag: 1, .render))
        #expect(system.sd32(index, HDARegister.SD.bdpl) == 0 && system.sd32(index, HDARegister.SD.cbl) == 0)
        expectStatus(.invalidDeviceRequest) { try client.setDmaEngineState(.stop, handles: [a.handle]) }
        #expect(system.allocatedPages == pages)
        try client.freeContiguousDmaBuffer(a.handle)
        try client.freeDmaEngine(a.handle)
    }

    @Test("SetupDmaEngineWithBdl: Lvi 0 and Lvi 256 are INVALID_PARAMETER; Lvi 255 (a full BDL page) is accepted")
    func lviBounds() throws {
        let system = try makeSystem(.ich6)
        let client = try system.openInterface(codecAddress: 0, version: .bdl)
        let a = try client.allocateRenderDmaEngine(format: F.stereo48, stripe: false)
        let c = try client.allocateContiguousDmaBuffer(a.handle, requestedBufferSize: 256 * 128)
        rvWriteBdl(system, at: c.bdlBuffer.address, (0..<256).map { (c.dataBuffer.address + UInt64($0) * 128, 128, $0 % 64 == 63) })
        expectStatus(.invalidParameter) { try client.setupDmaEngineWithBdl(a.handle, bufferLength: 128, lvi: 0, isr: { _, _ in }, context: 0) }
        expectStatus(.invalidParameter) { try client.setupDmaEngineWithBdl(a.handle, bufferLength: 257 * 128, lvi: 256, isr: { _, _ in }, context: 0) }
        let s = try client.setupDmaEngineWithBdl(a.handle, bufferLength: 256 * 128, lvi: 255, isr: { _, _ in }, context: 0)
        #expect(s.streamId == 1)
        try client.setDmaEngineState(.stop, handles: [a.handle]); try client.setDmaEngineState(.run, handles: [a.handle])
        system.advance(frames: 256 * 32 + 10)   // one wrap at 4 bytes per frame
        let index = try #require(system.engineIndex(tag: 1, .render))
        #expect(system.platform.withController { $0.statistics(ofDescriptor: index).completions } == 4)
    }

    // MARK: closing, failures and accounting

    @Test("Closing an interface with engines running stops them, frees every page, engine, tag and bit of bandwidth, and signals nothing more")
    func closeWhileRunning() throws {
        let system = try makeSystem(.bidirectional4SDO)
        let baseline = system.allocatedPages
        let event = NotificationEvent()
        let log = IsrLog()
        do {
            let v2 = try system.openInterface(codecAddress: 0, version: .v2)
            let bdl = try system.openInterface(codecAddress: 1, version: .bdl)
            let r = try v2.allocateRenderDmaEngine(format: F.stereo48, stripe: true)
            let cap = try v2.allocateCaptureDmaEngine(codecAddress: 1, format: F.cd)
            _ = try v2.allocateDmaBufferWithNotification(r.handle, notificationCount: 2, requestedBufferSize: 4096)
            _ = try v2.allocateDmaBufferWithNotification(cap.handle, notificationCount: 1, requestedBufferSize: 8192)
            try v2.registerNotificationEvent(r.handle, event: event)
            try v2.registerNotificationEvent(cap.handle, event: event)
            let b = try bdl.allocateRenderDmaEngine(format: F.stereo48, stripe: false)
            let c = try bdl.allocateContiguousDmaBuffer(b.handle, requestedBufferSize: 4096)
            rvWriteBdl(system, at: c.bdlBuffer.address, [(c.dataBuffer.address, 256, true), (c.dataBuffer.address + 256, 256, true)])
            _ = try bdl.setupDmaEngineWithBdl(b.handle, bufferLength: 512, lvi: 1,
                                              isr: { m, ctx in log.calls.withLock { $0.append((m, ctx, .dirql)) } }, context: 1)
            try v2.setDmaEngineState(.stop, handles: [r.handle, cap.handle]); try v2.setDmaEngineState(.run, handles: [r.handle, cap.handle])
            try bdl.setDmaEngineState(.stop, handles: [b.handle]); try bdl.setDmaEngineState(.run, handles: [b.handle])
            system.advance(frames: 600)
            #expect(event.signalCount > 0 && !log.masks.isEmpty)
            v2.close()
            bdl.close()
        }
        let signals = event.signalCount, isrCalls = log.masks.count
        let moved = system.platform.withController { $0.totalBytesMoved }
        system.advance(frames: 5000)
        #expect(event.signalCount == signals && log.masks.count == isrCalls)
        #expect(system.platform.withController { $0.totalBytesMoved } == moved)
        #expect(system.allocatedPages == baseline)
        let res = system.bus.resources()
        #expect(res.engines.isEmpty && res.sdo.allSatisfy { $0.used == 0 } && res.sdi.allSatisfy { $0.used == 0 })
        #expect(res.tags.values.allSatisfy { $0.isEmpty })
        #expect(system.platform.read32(HDARegister.intctl) & InterruptBits.streamMask == 0)
        #expect(system.bus.checkInvariants().isEmpty)
    }

    @Test("DEVICE_NOT_READY from AllocateDmaBuffer and from SetupDmaEngineWithBdl leaks nothing; the engine still frees")
    func deviceNotReadyAccounting() throws {
        let system = try makeSystem(.ich6)
        let v2 = try system.openInterface(codecAddress: 0, version: .v2)
        let a = try v2.allocateRenderDmaEngine(format: F.stereo48, stripe: false)
        let index = try #require(system.engineIndex(tag: 1, .render))
        let baseline = system.allocatedPages
        for faults in [FaultInjection(srstNeverLatches: [index]), FaultInjection(srstNeverClears: [index])] {
            system.setFaults(faults)
            let start = system.frame
            expectStatus(.deviceNotReady) { try v2.allocateDmaBufferWithNotification(a.handle, notificationCount: 2, requestedBufferSize: 65536) }
            // At most 300 us per phase (two phases), in link time.
            #expect(system.frame - start <= LinkTiming.frames(microseconds: 2 * 303) + 1)
            #expect(system.allocatedPages == baseline)
            #expect(system.bus.resources().engines.first?.hasBuffer == false)
            system.setFaults(FaultInjection())
        }
        let r = try v2.allocateDmaBuffer(a.handle, requestedBufferSize: 4096)
        #expect(r.allocatedBufferSize == 4096)
        try v2.freeDmaBuffer(a.handle)
        try v2.freeDmaEngine(a.handle)
        #expect(system.allocatedPages == baseline)

        // The BDL interface: the contiguous buffer stays the client's to free; nothing else is kept.
        let bdl = try system.openInterface(codecAddress: 0, version: .bdl)
        let b = try bdl.allocateRenderDmaEngine(format: F.stereo48, stripe: false)
        let bIndex = try #require(system.engineIndex(tag: 1, .render))
        let c = try bdl.allocateContiguousDmaBuffer(b.handle, requestedBufferSize: 4096)
        rvWriteBdl(system, at: c.bdlBuffer.address, [(c.dataBuffer.address, 2048, true), (c.dataBuffer.address + 2048, 2048, true)])
        system.setFaults(FaultInjection(srstNeverClears: [bIndex]))
        expectStatus(.deviceNotReady) { try bdl.setupDmaEngineWithBdl(b.handle, bufferLength: 4096, lvi: 1, isr: { _, _ in }, context: 0) }
        system.setFaults(FaultInjection())
        #expect(system.platform.read32(HDARegister.intctl) & (1 << UInt32(bIndex)) == 0)
        expectStatus(.invalidDeviceRequest) { try bdl.setDmaEngineState(.stop, handles: [b.handle]) }   // not set up
        #expect(system.allocatedPages == baseline + 2)
        try bdl.freeContiguousDmaBuffer(b.handle)
        try bdl.freeDmaEngine(b.handle)
        #expect(system.allocatedPages == baseline)
    }

    @Test("After a Reset that timed out, Run either fails or really runs the engine (never a silent SUCCESS)")
    func runAfterFailedReset() throws {
        let system = try makeSystem(.ich6)
        let v2 = try system.openInterface(codecAddress: 0, version: .v2)
        let a = try v2.allocateRenderDmaEngine(format: F.stereo48, stripe: false)
        _ = try v2.allocateDmaBufferWithNotification(a.handle, notificationCount: 1, requestedBufferSize: 4096)
        let index = try #require(system.engineIndex(tag: 1, .render))
        try v2.setDmaEngineState(.stop, handles: [a.handle]); try v2.setDmaEngineState(.run, handles: [a.handle])
        system.advance(frames: 10)
        try v2.setDmaEngineState(.stop, handles: [a.handle])
        system.setFaults(FaultInjection(srstNeverLatches: [index]))
        expectStatus(.deviceNotReady) { try v2.setDmaEngineState(.reset, handles: [a.handle]) }
        system.setFaults(FaultInjection())
        var ran = false
        do {
            try v2.setDmaEngineState(.run, handles: [a.handle])
            ran = true
        } catch {}
        if ran {
            system.advance(frames: 16)
            #expect(system.platform.withController { $0.isMoving(descriptor: index) }, "Run returned SUCCESS but the engine does not move")
        }
    }

    @Test("Closing an interface from inside its own BDL ISR (DIRQL) neither crashes nor hangs, and the close takes effect")
    func closeFromInsideIsr() throws {
        let system = try makeSystem(.ich6)
        let baseline = system.allocatedPages
        let client = try system.openInterface(codecAddress: 0, version: .bdl)
        let holder = Mutex<HDAudioBDLInterface?>(client)
        let calls = Mutex(0)
        var handles: [DmaEngineHandle] = []
        for _ in 0..<2 {   // two engines whose IOCs fall in the same frame
            let a = try client.allocateRenderDmaEngine(format: F.stereo48, stripe: false)
            let c = try client.allocateContiguousDmaBuffer(a.handle, requestedBufferSize: 4096)
            rvWriteBdl(system, at: c.bdlBuffer.address, [(c.dataBuffer.address, 256, true), (c.dataBuffer.address + 256, 256, true)])
            _ = try client.setupDmaEngineWithBdl(a.handle, bufferLength: 512, lvi: 1, isr: { _, _ in
                calls.withLock { $0 += 1 }
                holder.withLock { h in let i = h; h = nil; return i }?.close()
            }, context: 0)
            handles.append(a.handle)
        }
        try client.setDmaEngineState(.stop, handles: handles)
        try client.setDmaEngineState(.run, handles: handles)
        system.advance(frames: 200)
        #expect(calls.withLock { $0 } >= 1)
        // Any later bus call at PASSIVE_LEVEL may complete a deferred close.
        let other = try system.openInterface(codecAddress: 1, version: .base)
        try other.freeDmaEngine(other.allocateRenderDmaEngine(format: F.small, stripe: false).handle)
        #expect(system.bus.resources().engines.isEmpty)
        #expect(system.allocatedPages == baseline)
    }

    @Test("A synchronous TransferCodecVerbs returns within a bounded wait (IsValid = 0) when the controller stops answering and WALCLK stops")
    func verbsBoundedWhenControllerDies() throws {
        let system = try makeSystem(.ich6)
        let client = try system.openInterface(codecAddress: 0, version: .base)
        system.advance(frames: 100)
        system.platform.withController { $0.write32(HDARegister.gctl, 0) }   // the controller falls back into reset
        let start = system.frame
        let r = try client.transferCodecVerbs([CodecTransfer(verb: 0xF0000)])
        #expect(r.count == 1 && r[0].input.isValid == false)
        #expect(system.frame - start < 48_000, "waited more than a second of link time")
    }

    @Test("Writing or reading a DMA buffer through its MDL at an offset near Int.max is refused (false), never a trap")
    func mdlAccessAtHugeOffset() throws {
        let system = try makeSystem(.ich6)
        let client = try system.openInterface(codecAddress: 0, version: .base)
        let a = try client.allocateRenderDmaEngine(format: F.stereo48, stripe: false)
        let b = try client.allocateDmaBuffer(a.handle, requestedBufferSize: 4096)
        var bytes: [UInt8] = [1, 2, 3, 4]
        for offset in [Int.max, Int.max - 1, -1, Int.min, b.allocatedBufferSize - 3] {
            #expect(bytes.withUnsafeBytes { system.platform.write($0, to: b.mdl, at: offset) } == false, "offset \(offset)")
            #expect(bytes.withUnsafeMutableBytes { system.platform.read(b.mdl, at: offset, into: $0) } == false, "offset \(offset)")
        }
    }

    @Test("Tag exhaustion: the 16th render engine of a controller with 16 render-capable engines is INSUFFICIENT_RESOURCES and charges nothing")
    func tagExhaustion() throws {
        let gcap = GlobalCapabilities(outputEngines: 15, inputEngines: 1, bidirectionalEngines: 1, sdoLines: 1, supports64Bit: true)
        let profile = ControllerProfile(name: "review-16", summary: "15 out, 1 in, 1 bidirectional", gcap: gcap,
                                        outpay: 0x3C, inpay: 0x1D, outstrmpay: 0x30, instrmpay: 0x18,
                                        pciVendor: 0x8086, pciDevice: 0x9D70, revision: 1, ssyncOffset: HDARegister.ssyncSpec,
                                        sdiLines: 3, crstExitFrames: 1, srstFrames: 1)
        let system = try makeSystem(profile)
        let client = try system.openInterface(codecAddress: 0, version: .base)
        var tags: Set<UInt8> = []
        for _ in 0..<15 {
            let a = try client.allocateRenderDmaEngine(format: F.small, stripe: false)
            _ = a
        }
        for e in system.bus.resources().engines { tags.insert(e.tag) }
        #expect(tags == Set(1...15))
        let before = system.bus.resources()
        expectStatus(.insufficientResources) { try client.allocateRenderDmaEngine(format: F.small, stripe: false) }
        #expect(system.bus.resources() == before)
        // Capture still has its own 15 tags: the input engine, then the bidirectional one.
        let c1 = try client.allocateCaptureDmaEngine(codecAddress: 0, format: F.small)
        let c2 = try client.allocateCaptureDmaEngine(codecAddress: 0, format: F.small)
        _ = (c1, c2)
        let captures = system.bus.resources().engines.filter { $0.direction == .capture }
        #expect(captures.map(\.tag).sorted() == [1, 2] && captures.map(\.kind).sorted { $0.rawValue < $1.rawValue } == [.bidirectional, .input])
        #expect(system.bus.checkInvariants().isEmpty)
    }

    // MARK: more probes

    @Test("GetLinkPositionRegister and GetWallClockRegister are live views: the engine's LPIB and WALCLK, frame after frame")
    func liveViews() throws {
        let system = try makeSystem(.skylakePCH)
        let client = try system.openInterface(codecAddress: 0, version: .base)
        let clock = try client.getWallClockRegister()
        var views: [(Int, RegisterView)] = []
        var handles: [DmaEngineHandle] = []
        for (i, f) in [F.stereo48, F.cd, StreamFormat(rate: 32000, bits: 24, channels: 3)].enumerated() {
            let a = try client.allocateRenderDmaEngine(format: f, stripe: false)
            _ = try client.allocateDmaBuffer(a.handle, requestedBufferSize: 1000 + 999 * i)
            let index = try #require(system.engineIndex(tag: UInt8(i + 1), .render))
            views.append((index, try client.getLinkPositionRegister(a.handle)))
            handles.append(a.handle)
        }
        try client.setDmaEngineState(.stop, handles: handles)
        try client.setDmaEngineState(.run, handles: handles)
        for step in [1, 7, 160, 333] {
            system.advance(frames: UInt64(step))
            #expect(clock.value == system.platform.read32(HDARegister.walclk))
            for (index, view) in views {
                #expect(view.value == system.sd32(index, HDARegister.SD.lpib), "descriptor \(index) after +\(step) frames")
            }
        }
        let w0 = clock.value
        system.advance(frames: 3)
        #expect(clock.value &- w0 == 1500)
        try client.setDmaEngineState(.stop, handles: handles)
        try client.setDmaEngineState(.reset, handles: handles)
        system.advance(frames: 1)
        #expect(views.allSatisfy { $0.1.value == 0 })
    }

    @Test("Stop with one bad handle among running engines changes nothing: they keep running")
    func stopAllOrNothing() throws {
        let system = try makeSystem(.ich6)
        let client = try system.openInterface(codecAddress: 0, version: .base)
        var handles: [DmaEngineHandle] = []
        for _ in 0..<2 {
            let a = try client.allocateRenderDmaEngine(format: F.stereo48, stripe: false)
            _ = try client.allocateDmaBuffer(a.handle, requestedBufferSize: 4096)
            handles.append(a.handle)
        }
        let idle = try client.allocateRenderDmaEngine(format: F.stereo48, stripe: false)
        _ = try client.allocateDmaBuffer(idle.handle, requestedBufferSize: 4096)
        try client.setDmaEngineState(.stop, handles: handles)
        try client.setDmaEngineState(.run, handles: handles)
        expectStatus(.invalidHandle) { try client.setDmaEngineState(.stop, handles: handles + [DmaEngineHandle(rawValue: 0x1234)]) }
        expectStatus(.invalidDeviceRequest) { try client.setDmaEngineState(.reset, handles: [idle.handle] + handles) }   // Run -> Reset among them
        system.advance(frames: 10)
        let states = system.bus.resources().engines.map(\.state)
        #expect(states.filter { $0 == .run }.count == 2 && states.filter { $0 == .reset }.count == 1)
        #expect((4..<6).allSatisfy { i in system.platform.withController { $0.isMoving(descriptor: i) } })
        #expect(system.sd32(4, HDARegister.SD.lpib) == system.sd32(5, HDARegister.SD.lpib), "started on the same frame")
    }

    @Test("One event registered on two engines whose IOCs fall in the same frame is signalled once per IOC of each")
    func sharedEventSameFrame() throws {
        let system = try makeSystem(.ich6)
        let client = try system.openInterface(codecAddress: 0, version: .v2)
        let event = NotificationEvent()
        var handles: [DmaEngineHandle] = []
        for _ in 0..<2 {
            let a = try client.allocateRenderDmaEngine(format: F.stereo48, stripe: false)
            _ = try client.allocateDmaBufferWithNotification(a.handle, notificationCount: 1, requestedBufferSize: 1024)
            try client.registerNotificationEvent(a.handle, event: event)
            handles.append(a.handle)
        }
        try client.setDmaEngineState(.stop, handles: handles)
        try client.setDmaEngineState(.run, handles: handles)
        system.advance(frames: 256 * 5 + 10)   // 1024 bytes at 4 bytes per frame: 5 wraps each
        #expect(event.signalCount == 10)
        try client.unregisterNotificationEvent(handles[0], event: event)
        expectStatus(.invalidParameter) { try client.unregisterNotificationEvent(handles[0], event: event) }
        system.advance(frames: 256)
        #expect(event.signalCount == 11)
    }

    @Test("Bidirectional fallback: render sets DIR = 1 and gets the output FIFO, capture DIR = 0 and the input FIFO")
    func bidirectionalFallbackFifo() throws {
        let system = try makeSystem(.bidirectional4SDO)
        let client = try system.openInterface(codecAddress: 0, version: .base)
        let f24 = StreamFormat(rate: 48000, bits: 24, channels: 2)
        for _ in 0..<4 { _ = try client.allocateRenderDmaEngine(format: F.stereo48, stripe: false) }
        for _ in 0..<4 { _ = try client.allocateCaptureDmaEngine(codecAddress: 0, format: F.stereo48) }
        let r = try client.allocateRenderDmaEngine(format: f24, stripe: false)
        let c = try client.allocateCaptureDmaEngine(codecAddress: 1, format: f24)
        let rb = try client.allocateDmaBuffer(r.handle, requestedBufferSize: 4096)
        let cb = try client.allocateDmaBuffer(c.handle, requestedBufferSize: 4096)
        let rIndex = try #require(system.engineIndex(tag: 5, .render))
        let cIndex = try #require(system.engineIndex(tag: 5, .capture))
        #expect(rIndex == 8 && cIndex == 9)
        #expect(system.control(rIndex).directionOutput && !system.control(cIndex).directionOutput)
        #expect(rb.fifoSize == 256 && cb.fifoSize == 160)   // ICH6 rule for 24-bit samples
        expectStatus(.invalidParameter) { try client.allocateCaptureDmaEngine(codecAddress: 3, format: F.stereo48) }   // no codec
        expectStatus(.invalidParameter) { try client.allocateCaptureDmaEngine(codecAddress: 15, format: F.stereo48) }
        expectStatus(.invalidParameter) { try client.allocateCaptureDmaEngine(codecAddress: -1, format: F.stereo48) }
    }

    @Test("Guest memory running out between the data pages and the BDL page leaves nothing allocated")
    func outOfMemoryBetweenDataAndBdl() throws {
        let system = try makeSystem(.ich6)
        let client = try system.openInterface(codecAddress: 0, version: .v2)
        let a = try client.allocateRenderDmaEngine(format: F.stereo48, stripe: false)
        let baseline = system.allocatedPages
        system.setPageLimit(baseline + 4)   // exactly the 4 data pages of 16 KiB, no BDL page
        expectStatus(.insufficientResources) { try client.allocateDmaBufferWithNotification(a.handle, notificationCount: 2, requestedBufferSize: 16384) }
        expectStatus(.insufficientResources) { try client.allocateDmaBuffer(a.handle, requestedBufferSize: 1 << 20) }
        #expect(system.allocatedPages == baseline)
        system.setPageLimit(baseline + 5)
        let b = try client.allocateDmaBufferWithNotification(a.handle, notificationCount: 2, requestedBufferSize: 16384)
        #expect(b.allocatedBufferSize == 16384 && system.allocatedPages == baseline + 5)
        system.setPageLimit(nil)
    }

    @Test("GetDeviceInformation fills the form its Size names: BASE from 10 to 13 bytes, V2 from 14; smaller is INVALID_PARAMETER")
    func deviceInformationBySize() throws {
        let system = try makeSystem(.bidirectional4SDO, codecs: [0, 2, 5])
        let client = try system.openInterface(codecAddress: 0, version: .bdl)
        for size in [10, 13] {
            let info = try client.getDeviceInformation(size: size)
            #expect(info.size == 10 && info.ctrlVendorId == nil && info.ctrlDeviceId == nil && info.ctrlRevision == nil)
        }
        let v2 = try client.getDeviceInformation(size: 1000)
        #expect(v2.size == 14 && v2.ctrlVendorId == 0x1B36 && v2.ctrlDeviceId == 0xA2A1 && v2.ctrlRevision == 0x01)
        #expect(v2.deviceVersion == 0x0100 && v2.codecsDetected == 3 && v2.isStripingSupported)
        for size in [0, 9, -1] { expectStatus(.invalidParameter) { try client.getDeviceInformation(size: size) } }
        let ich6 = try makeSystem(.ich6)
        #expect(try ich6.openInterface(codecAddress: 0, version: .base).getDeviceInformation(size: 10).isStripingSupported == false)
    }

    @Test("SDI budget per codec address: filled exactly to INPAY x 16 bits, one stream past it refused, other lines independent")
    func sdiBudgetExact() throws {
        let system = try makeSystem(.skylakePCH, codecs: [0, 1])
        let client = try system.openInterface(codecAddress: 0, version: .base)
        let eight = StreamFormat(rate: 48000, bits: 16, channels: 8)    // 10 + 128 = 138 bits
        let twenty = StreamFormat(rate: 48000, bits: 20, channels: 2)   // 10 + 8 x ceil(40 / 8) = 50 bits
        for _ in 0..<3 { _ = try client.allocateCaptureDmaEngine(codecAddress: 0, format: eight) }
        _ = try client.allocateCaptureDmaEngine(codecAddress: 0, format: twenty)
        #expect(system.bus.resources().sdi[0] == BudgetUse(used: 464, budget: 0x1D * 16))
        let before = system.bus.resources()
        expectStatus(.insufficientResources) { try client.allocateCaptureDmaEngine(codecAddress: 0, format: F.small) }
        #expect(system.bus.resources() == before)
        _ = try client.allocateCaptureDmaEngine(codecAddress: 1, format: F.small)
        #expect(system.bus.resources().sdi[1].used == 18)
    }

    @Test("A striped stream needs its share on every line, SDO0 included; blocks per frame follow ceil(m / d) and the 44.1 kHz multiplier")
    func stripedBudget() throws {
        let system = try makeSystem(.bidirectional4SDO)   // 4 SDO lines of 960 bits
        let client = try system.openInterface(codecAddress: 0, version: .base)
        let big = StreamFormat(rate: 96000, bits: 16, channels: 16)   // 2 x 16 x 16 = 512: 128 per line
        var handles: [DmaEngineHandle] = []
        for _ in 0..<6 { handles.append(try client.allocateRenderDmaEngine(format: big, stripe: true).handle) }
        _ = try client.allocateRenderDmaEngine(format: StreamFormat(rate: 48000, bits: 32, channels: 8), stripe: true)   // 64 per line
        #expect(system.bus.resources().sdo.map(\.used) == [832, 832, 832, 832])
        try client.freeDmaEngine(handles[0])
        _ = try client.allocateRenderDmaEngine(format: StreamFormat(rate: 48000, bits: 16, channels: 8), stripe: false)   // 128 on SDO0
        #expect(system.bus.resources().sdo.map(\.used) == [832, 704, 704, 704])
        _ = try client.allocateRenderDmaEngine(format: big, stripe: true)
        #expect(system.bus.resources().sdo.map(\.used) == [960, 832, 832, 832])
        let full = system.bus.resources()
        #expect(full.engines.count == 8)
        // Blocks per frame: 88.2 kHz carries 2 per frame at most, 32 kHz 1, 11.025 kHz 1.
        let other = try makeSystem(.ich6)
        let c2 = try other.openInterface(codecAddress: 0, version: .base)
        for (rate, bits): (UInt32, Int) in [(88200, 64), (32000, 32), (11025, 32), (176_400, 128), (64000, 64), (144_000, 96)] {
            let a = try c2.allocateRenderDmaEngine(format: StreamFormat(rate: rate, bits: 16, channels: 2), stripe: false)
            #expect(other.bus.resources().engines.first { $0.tag == 1 }?.bitsPerLine == bits, "\(rate) Hz")
            try c2.freeDmaEngine(a.handle)
        }
    }

    static let encodings: [(rate: UInt32, valid: UInt16, container: UInt16, channels: UInt16, expected: UInt16?)] = [
        (48000, 16, 16, 2, 0x0011), (44100, 16, 16, 2, 0x4011), (96000, 24, 32, 2, 0x0831), (7350, 16, 16, 2, 0x4511),
        (12000, 16, 16, 2, 0x0311), (64000, 16, 16, 2, 0x1A11), (144_000, 16, 16, 2, 0x1011), (132_300, 8, 8, 1, 0x5000),
        (48000, 16, 32, 2, 0x0011), (48000, 20, 32, 2, 0x0021), (48000, 32, 32, 8, 0x0047), (6000, 8, 8, 1, 0x0700),
        (384_000, 16, 16, 2, nil), (4000, 16, 16, 2, nil), (48000, 24, 16, 2, nil), (48000, 20, 16, 2, nil), (48000, 24, 24, 2, nil),
        (48000, 16, 16, 0, nil), (48000, 16, 16, 17, nil), (48000, 12, 16, 2, nil), (0, 16, 16, 2, nil), (48001, 16, 16, 2, nil),
        (48000, 8, 32, 2, 0x0001), (48000, 0, 16, 2, nil),
    ]

    @Test("The bus returns the vocabulary's encoding of every legal format and INVALID_PARAMETER for every illegal one, for render and capture")
    func converterFormats() throws {
        let system = try makeSystem(.ich6)
        let client = try system.openInterface(codecAddress: 0, version: .base)
        for e in BusReviewTests.encodings {
            let format = StreamFormat(sampleRate: e.rate, validBitsPerSample: e.valid, containerSize: e.container, numberOfChannels: e.channels)
            if let expected = e.expected {
                let r = try client.allocateRenderDmaEngine(format: format, stripe: false)
                let c = try client.allocateCaptureDmaEngine(codecAddress: 0, format: format)
                #expect(r.converterFormat.rawValue == expected && c.converterFormat.rawValue == expected, "\(format)")
                try client.freeDmaEngine(r.handle)
                try client.freeDmaEngine(c.handle)
            } else {
                expectStatus(.invalidParameter) { try client.allocateRenderDmaEngine(format: format, stripe: false) }
                expectStatus(.invalidParameter) { try client.allocateCaptureDmaEngine(codecAddress: 0, format: format) }
            }
            #expect(system.bus.resources().engines.isEmpty)
        }
    }
}
