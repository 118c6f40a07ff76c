import HDAudio

// The DDI routines, as the interfaces call them with the client's id.
extension HDAudioBus {
    // MARK: engines (issue 4)

    /// AllocateRenderDmaEngine / AllocateCaptureDmaEngine. PASSIVE_LEVEL.
    ///
    /// Order of checks: IRQL (UNSUCCESSFUL); the format, and for capture the codec address
    /// (an SDI line with a codec present) (INVALID_PARAMETER); the FIFO (BUFFER_TOO_SMALL);
    /// a free engine, a free tag of the direction, the line budget (INSUFFICIENT_RESOURCES).
    /// Render takes the lowest free output engine, then the lowest free bidirectional one
    /// (DIR = output); capture takes an input engine, then a bidirectional one (DIR = input).
    /// Stripe on a controller with 2 or 4 SDO lines stripes over all of them; with one
    /// line the engine is unstriped. Tags are per direction, 1 to 15 (the Decision). The
    /// engine is left in reset (SRST handshake done); a handshake that does not complete
    /// releases everything and is STATUS_DEVICE_NOT_READY.
    func allocateEngine(client: UInt32, direction: StreamDirection, format: StreamFormat,
                        stripe: Bool, codecAddress: Int) throws(NTStatus) -> DmaEngineAllocation {
        try require(.passive)
        let converter = try ConverterFormat(format)
        if direction == .capture {
            guard (0..<configuration.sdiLines).contains(codecAddress) else { throw .invalidParameter }
        }
        // Stripe asks for all SDO lines; a one-line controller allocates unstriped.
        let lines = direction == .render ? (stripe ? configuration.gcap.sdoLines : 1) : 0
        return try locked { (s: inout BusState) throws(NTStatus) -> DmaEngineAllocation in
            guard s.openClients[client] != nil else { throw .invalidDeviceRequest }
            if direction == .capture, s.codecMask & (1 << UInt16(codecAddress)) == 0 { throw .invalidParameter }
            let c = try charge(for: format, direction: direction, stripeLines: lines, sdiLine: codecAddress, in: s)
            let own: EngineKind = direction == .render ? .output : .input
            let candidates = Array(configuration.layout.indices(of: own)) + Array(configuration.layout.indices(of: .bidirectional))
            guard let index = candidates.first(where: { s.engines[$0].allocation == nil }) else { throw .insufficientResources }
            let used = s.tagsInUse[direction, default: 0]
            guard let tag = HDAudioBus.tagRange.first(where: { used & (1 << UInt16($0)) == 0 }) else { throw .insufficientResources }
            let generation = s.nextGeneration
            s.nextGeneration = s.nextGeneration >= 0xFF_FFFF ? 1 : s.nextGeneration + 1
            let a = EngineAllocation(client: client, generation: generation, direction: direction, tag: tag,
                                     format: format, converterFormat: converter, stripeLines: max(lines, 1),
                                     charge: c)
            guard streamReset(index) else {
                makeSafe(index)
                throw .deviceNotReady
            }
            s.engines[index].allocation = a
            s.tagsInUse[direction, default: 0] |= 1 << UInt16(tag)
            apply(c, sign: 1, &s)
            programControl(index, a)
            return DmaEngineAllocation(handle: DmaEngineHandle(client: client, generation: generation, slot: index),
                                       converterFormat: converter)
        }
    }

    /// ChangeBandwidthAllocation. PASSIVE_LEVEL. INVALID_DEVICE_REQUEST unless the engine
    /// is in reset with no buffer; re-checks FIFO and budgets for the new format with the
    /// engine's own reservation released; on any failure the old format and reservation
    /// stay exactly as they were.
    func changeBandwidth(client: UInt32, handle: DmaEngineHandle, format: StreamFormat) throws(NTStatus) -> ConverterFormat {
        try require(.passive)
        return try locked { (s: inout BusState) throws(NTStatus) -> ConverterFormat in
            let i = try s.index(of: handle, client: client)
            let converter = try ConverterFormat(format)
            var a = s.engines[i].allocation!
            guard a.state == .reset, a.buffer == nil else { throw .invalidDeviceRequest }
            var trial = s
            apply(a.charge, sign: -1, &trial)
            let c = try charge(for: format, direction: a.direction, stripeLines: a.direction == .render ? a.stripeLines : 0,
                               sdiLine: a.charge.sdiLine, in: trial)
            apply(a.charge, sign: -1, &s)
            apply(c, sign: 1, &s)
            a.charge = c
            a.format = format
            a.converterFormat = converter
            s.engines[i].allocation = a
            return converter
        }
    }

    /// FreeDmaEngine. Up to DISPATCH_LEVEL. INVALID_DEVICE_REQUEST if the engine is not in
    /// reset or still holds a buffer of any kind. Returns its tag and bandwidth.
    func freeEngine(client: UInt32, handle: DmaEngineHandle) throws(NTStatus) {
        try require(.dispatch)
        try locked { (s: inout BusState) throws(NTStatus) in
            let i = try s.index(of: handle, client: client)
            let a = s.engines[i].allocation!
            guard a.state == .reset, a.buffer == nil else { throw .invalidDeviceRequest }
            release(i, &s)
        }
    }

    // MARK: buffers (issue 5)

    /// AllocateDmaBuffer (notifications 0) and AllocateDmaBufferWithNotification (1 or 2).
    /// PASSIVE_LEVEL. See `DmaBufferLayout` for the size and IOC rules. Programs CBL, LVI,
    /// FMT, the tag and the BDL address after an SRST handshake.
    func allocateBuffer(client: UInt32, handle: DmaEngineHandle, notifications: Int, requested: Int,
                        withNotification: Bool) throws(NTStatus) -> (MemoryDescriptorList, UInt8, UInt32) {
        try require(.passive)
        return try locked { (s: inout BusState) throws(NTStatus) -> (MemoryDescriptorList, UInt8, UInt32) in
            let i = try s.index(of: handle, client: client)
            // NotificationCount is 1 or 2 for AllocateDmaBufferWithNotification (0 means a plain buffer).
            guard withNotification ? (1...2).contains(notifications) : notifications == 0, requested > 0
            else { throw .invalidParameter }
            var a = s.engines[i].allocation!
            guard a.state == .reset, a.buffer == nil else { throw .invalidDeviceRequest }
            let block = a.format.blockBytes
            guard let size = bufferLayout.roundedSize(requested: requested, blockBytes: block, notifications: notifications),
                  let entries = bufferLayout.entries(size: size, blockBytes: block, notifications: notifications)
            else { throw .invalidParameter }
            let pageSize = platform.pageSize
            let pageCount = (size + pageSize - 1) / pageSize
            guard let data = platform.allocatePages(count: pageCount, contiguous: false) else { throw .insufficientResources }
            guard let bdl = platform.allocatePages(count: 1, contiguous: true)?.first else {
                platform.freePages(data)
                throw .insufficientResources
            }
            let mdl = MemoryDescriptorList(pages: data, byteCount: size, byteOffset: 0, pageSize: pageSize)
            let zeros = [UInt8](repeating: 0, count: pageSize)
            for page in data { platform.writeMemory(page, bytes: zeros) }
            var table = [UInt8]()
            table.reserveCapacity(entries.count * BDLEntry.size)
            for e in entries {
                table += BDLEntry(address: mdl.physicalAddress(ofByte: e.offset)!, length: UInt32(e.length),
                                  interruptOnCompletion: e.interruptOnCompletion).bytes
            }
            platform.writeMemory(bdl, bytes: table)
            guard streamReset(i) else {
                makeSafe(i)
                platform.freePages(data + [bdl])
                throw .deviceNotReady
            }
            a.buffer = .dma(DmaBufferRecord(mdl: mdl, bdlPage: bdl, notifications: notifications, entryCount: entries.count))
            s.engines[i].allocation = a
            let fifo = programBuffer(i, a)
            refreshInterruptTarget(i, a)
            return (mdl, a.tag, fifo)
        }
    }

    /// FreeDmaBuffer (notifications 0) and FreeDmaBufferWithNotification (1 or 2, with the
    /// MDL and size the allocation returned: INVALID_PARAMETER when they differ).
    /// PASSIVE_LEVEL. INVALID_DEVICE_REQUEST unless in reset with a buffer of that kind.
    func freeBuffer(client: UInt32, handle: DmaEngineHandle, withNotification: Bool,
                    mdl: MemoryDescriptorList?, size: Int?) throws(NTStatus) {
        try require(.passive)
        try locked { (s: inout BusState) throws(NTStatus) in
            let i = try s.index(of: handle, client: client)
            let a = s.engines[i].allocation!
            guard a.state == .reset, case .dma(let r)? = a.buffer, (r.notifications > 0) == withNotification
            else { throw .invalidDeviceRequest }
            if withNotification {
                guard mdl == r.mdl, size == r.mdl.byteCount else { throw .invalidParameter }
            }
            releaseBuffer(i, &s)
        }
    }

    /// RegisterNotificationEvent. PASSIVE_LEVEL. INSUFFICIENT_RESOURCES when the engine's
    /// `maxNotificationEvents` slots are full; INVALID_PARAMETER for an event already registered.
    func registerEvent(client: UInt32, handle: DmaEngineHandle, event: NotificationEvent) throws(NTStatus) {
        try require(.passive)
        try locked { (s: inout BusState) throws(NTStatus) in
            let i = try s.index(of: handle, client: client)
            var a = s.engines[i].allocation!
            guard !a.events.contains(event) else { throw .invalidParameter }
            guard a.events.count < HDAudioBus.maxNotificationEvents else { throw .insufficientResources }
            a.events.append(event)
            s.engines[i].allocation = a
            refreshInterruptTarget(i, a)
        }
    }

    /// UnregisterNotificationEvent. PASSIVE_LEVEL. INVALID_PARAMETER for an event that is
    /// not registered on the engine.
    func unregisterEvent(client: UInt32, handle: DmaEngineHandle, event: NotificationEvent) throws(NTStatus) {
        try require(.passive)
        try locked { (s: inout BusState) throws(NTStatus) in
            let i = try s.index(of: handle, client: client)
            var a = s.engines[i].allocation!
            guard let at = a.events.firstIndex(of: event) else { throw .invalidParameter }
            a.events.remove(at: at)
            s.engines[i].allocation = a
            refreshInterruptTarget(i, a)
        }
    }

    /// AllocateContiguousDmaBuffer. PASSIVE_LEVEL. A physically contiguous data buffer of
    /// whole pages covering the request and one page-aligned BDL page, both zeroed and
    /// neither programmed. INVALID_PARAMETER for 0; INVALID_DEVICE_REQUEST unless in reset
    /// with no buffer; INSUFFICIENT_RESOURCES when memory runs out (nothing kept).
    func allocateContiguous(client: UInt32, handle: DmaEngineHandle, requested: Int) throws(NTStatus) -> ContiguousDmaBuffer {
        try require(.passive)
        return try locked { (s: inout BusState) throws(NTStatus) -> ContiguousDmaBuffer in
            let i = try s.index(of: handle, client: client)
            guard requested > 0 else { throw .invalidParameter }
            var a = s.engines[i].allocation!
            guard a.state == .reset, a.buffer == nil else { throw .invalidDeviceRequest }
            let pageSize = platform.pageSize
            let (pageCount, overflow) = requested.addingReportingOverflow(pageSize - 1)
            guard !overflow, let data = platform.allocatePages(count: pageCount / pageSize, contiguous: true)
            else { throw .insufficientResources }
            guard let bdl = platform.allocatePages(count: 1, contiguous: true)?.first else {
                platform.freePages(data)
                throw .insufficientResources
            }
            let zeros = [UInt8](repeating: 0, count: pageSize)
            for page in data + [bdl] { platform.writeMemory(page, bytes: zeros) }
            a.buffer = .contiguous(ContiguousRecord(dataPages: data, bdlPage: bdl, setup: nil))
            s.engines[i].allocation = a
            return ContiguousDmaBuffer(dataBuffer: DmaMemory(address: data[0], length: data.count * pageSize),
                                       bdlBuffer: DmaMemory(address: bdl, length: pageSize))
        }
    }

    /// SetupDmaEngineWithBdl. PASSIVE_LEVEL. Validates the client's BDL (Lvi 1 to 255,
    /// each of the Lvi + 1 entries 128-byte aligned, non-empty and inside the data buffer,
    /// their lengths adding up to BufferLength, a whole number of blocks: else
    /// INVALID_PARAMETER), then programs the engine after an SRST handshake
    /// (DEVICE_NOT_READY); the engine stays in reset. INVALID_DEVICE_REQUEST without a
    /// contiguous buffer or out of reset.
    func setupWithBdl(client: UInt32, handle: DmaEngineHandle, bufferLength: UInt32, lvi: UInt16,
                      isr: @escaping BdlInterruptHandler, context: UInt) throws(NTStatus) -> BdlEngineSetup {
        try require(.passive)
        return try locked { (s: inout BusState) throws(NTStatus) -> BdlEngineSetup in
            let i = try s.index(of: handle, client: client)
            var a = s.engines[i].allocation!
            guard a.state == .reset, case .contiguous(var r)? = a.buffer else { throw .invalidDeviceRequest }
            guard (1...255).contains(lvi), bufferLength > 0, Int(bufferLength) % a.format.blockBytes == 0
            else { throw .invalidParameter }
            let dataStart = r.dataPages[0]
            let dataEnd = dataStart + UInt64(r.dataPages.count * platform.pageSize)
            guard let table = platform.readMemory(r.bdlPage, count: (Int(lvi) + 1) * BDLEntry.size) else { throw .invalidParameter }
            var total: UInt64 = 0
            for n in 0...Int(lvi) {
                let e = BDLEntry(bytes: table[(n * BDLEntry.size)..<((n + 1) * BDLEntry.size)])
                let (end, overflow) = e.address.addingReportingOverflow(UInt64(e.length))
                guard e.length > 0, e.address % BDLEntry.alignment == 0, e.address >= dataStart, !overflow, end <= dataEnd
                else { throw .invalidParameter }
                total += UInt64(e.length)
            }
            guard total == UInt64(bufferLength) else { throw .invalidParameter }
            guard streamReset(i) else {
                makeSafe(i)
                r.setup = nil
                a.buffer = .contiguous(r)
                s.engines[i].allocation = a
                refreshInterruptTarget(i, a)
                throw .deviceNotReady
            }
            r.setup = BdlSetupRecord(bufferLength: bufferLength, lvi: lvi, isr: isr, context: context)
            a.buffer = .contiguous(r)
            s.engines[i].allocation = a
            let fifo = programBuffer(i, a)
            refreshInterruptTarget(i, a)
            return BdlEngineSetup(streamId: a.tag, fifoSize: fifo)
        }
    }

    /// FreeContiguousDmaBuffer. PASSIVE_LEVEL. INVALID_DEVICE_REQUEST unless in reset with
    /// a contiguous buffer.
    func freeContiguous(client: UInt32, handle: DmaEngineHandle) throws(NTStatus) {
        try require(.passive)
        try locked { (s: inout BusState) throws(NTStatus) in
            let i = try s.index(of: handle, client: client)
            guard let a = s.engines[i].allocation, a.state == .reset, case .contiguous? = a.buffer
            else { throw .invalidDeviceRequest }
            releaseBuffer(i, &s)
        }
    }

    // MARK: stream state and registers

    /// SetDmaEngineState. Up to DISPATCH_LEVEL. No handles: INVALID_PARAMETER. **Decision**:
    /// every handle is validated (INVALID_HANDLE) and every transition checked (no Run to
    /// Reset or Reset to Run; any state but Reset needs a buffer: INVALID_DEVICE_REQUEST)
    /// before any engine is touched. Then all change together: Run and Stop through SSYNC
    /// (on the same frame); Reset performs the SRST handshake and reprograms the buffer.
    /// A handshake that does not complete is DEVICE_NOT_READY: a failed Run leaves the engines
    /// stopped; a failed Stop leaves an engine whose RUN still reads 1 in Run, so a retry works;
    /// a failed Reset leaves the engine stopped and unprogrammed, and Run is DEVICE_NOT_READY
    /// until a Reset succeeds.
    func setState(client: UInt32, state target: StreamState, handles: [DmaEngineHandle]) throws(NTStatus) {
        try require(.dispatch)
        guard !handles.isEmpty else { throw .invalidParameter }
        try locked { (s: inout BusState) throws(NTStatus) in
            var indices: [Int] = []
            for h in handles {
                let i = try s.index(of: h, client: client)
                if !indices.contains(i) { indices.append(i) }
            }
            for i in indices {
                let a = s.engines[i].allocation!
                guard a.state.canMove(to: target) else { throw .invalidDeviceRequest }
                if target != .reset && !a.hasRunnableBuffer { throw .invalidDeviceRequest }
            }
            // An engine whose last Reset timed out is unprogrammed: running it would only
            // raise a descriptor error, so Run is DEVICE_NOT_READY until a Reset succeeds.
            if target == .run, indices.contains(where: { s.engines[$0].allocation!.needsReset }) { throw .deviceNotReady }
            let moving = indices.filter { s.engines[$0].allocation!.state != target }
            var ok = true
            switch target {
            case .run:
                ok = startTogether(moving)
                for i in moving { s.engines[i].allocation!.state = ok ? .run : .stop }
            case .stop:
                ok = stopTogether(moving.filter { s.engines[$0].allocation!.state == .run })
                // An engine whose RUN did not read back 0 is still moving: it stays in Run,
                // so the client sees the truth and can ask for Stop again.
                for i in moving {
                    let stillRunning = platform.read8(sd(i, HDARegister.SD.ctl)) & UInt8(StreamControl.run) != 0
                    s.engines[i].allocation!.state = stillRunning ? .run : .stop
                }
            case .reset:
                for i in moving {
                    if streamReset(i) {
                        programBuffer(i, s.engines[i].allocation!)
                        s.engines[i].allocation!.state = .reset
                        s.engines[i].allocation!.needsReset = false
                    } else {
                        makeSafe(i)
                        s.engines[i].allocation!.needsReset = true
                        ok = false
                    }
                }
            }
            if !ok { throw .deviceNotReady }
        }
    }

    /// GetWallClockRegister. Up to DISPATCH_LEVEL. A live view of WALCLK through its alias.
    func wallClock() throws(NTStatus) -> RegisterView {
        try require(.dispatch)
        let p = platform
        return RegisterView { p.read32(HDARegister.walclkAlias) }
    }

    /// GetLinkPositionRegister. Up to DISPATCH_LEVEL. A live view of the engine's entry
    /// in the DMA position buffer.
    func linkPosition(client: UInt32, handle: DmaEngineHandle) throws(NTStatus) -> RegisterView {
        try require(.dispatch)
        let i = try locked { (s: inout BusState) throws(NTStatus) -> Int in try s.index(of: handle, client: client) }
        let p = platform
        let address = configuration.positionBuffer + UInt64(i) * 8
        return RegisterView { p.readMemory32(address) ?? 0 }
    }

    /// GetDeviceInformation. PASSIVE_LEVEL. Fills the V2 form when Size is at least its
    /// size, else the BASE form when Size is at least that; smaller is INVALID_PARAMETER.
    func deviceInformation(size: Int) throws(NTStatus) -> DeviceInformation {
        try require(.passive)
        let c = configuration
        guard size >= DeviceInformation.baseSize else { throw .invalidParameter }
        let v2 = size >= DeviceInformation.v2Size
        return DeviceInformation(
            size: v2 ? DeviceInformation.v2Size : DeviceInformation.baseSize,
            deviceVersion: UInt16(c.versionMajor) << 8 | UInt16(c.versionMinor),
            driverVersion: HDAudioBus.driverVersion,
            codecsDetected: UInt16(codecMask.nonzeroBitCount),
            isStripingSupported: c.gcap.sdoLines >= 2,
            ctrlRevision: v2 ? c.pci.revision : nil,
            ctrlVendorId: v2 ? c.pci.vendorId : nil,
            ctrlDeviceId: v2 ? c.pci.deviceId : nil)
    }
}
