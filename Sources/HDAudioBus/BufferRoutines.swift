import HDAudio

// The DMA buffer routines (AllocateDmaBuffer, AllocateDmaBufferWithNotification, their frees,
// the notification events, and the BDL interface's contiguous buffer and SetupDmaEngineWithBdl),
// as the interfaces call them with the client's id.
extension HDAudioBus {

    /// AllocateDmaBuffer (notifications 0) and AllocateDmaBufferWithNotification (1 or 2),
    /// for the client `client` (rules and statuses: `DmaBufferRoutines.allocateDmaBuffer`
    /// and `NotificationRoutines.allocateDmaBufferWithNotification`; sizes and IOC:
    /// `DmaBufferLayout`).
    func allocateDmaBuffer(client: UInt32, handle: DmaEngineHandle, notifications: Int, requested: Int,
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
            // The buffer's pages and one more for the BDL (a single page is contiguous) in one
            // allocation, so that running out leaves nothing allocated.
            guard var data = platform.allocatePages(count: pageCount + 1, contiguous: false), data.count == pageCount + 1
            else { throw .insufficientResources }
            let bdl = data.removeLast()
            let mdl = MemoryDescriptorList(pages: data, byteCount: size, byteOffset: 0, pageSize: pageSize)
            _ = platform.zeroPages(data)
            var table = [UInt8]()
            table.reserveCapacity(entries.count * BDLEntry.size)
            for e in entries {
                BDLEntry(address: mdl.physicalAddress(ofByte: e.offset)!, length: UInt32(e.length),
                         interruptOnCompletion: e.interruptOnCompletion).append(to: &table)
            }
            platform.writeMemory(bdl, bytes: table)
            // The handshake is skipped only for an engine that provably stayed in reset since
            // the one its allocation ran: RUN has been 0 since (no buffer, so no SetDmaEngineState
            // could start it), the bus wrote only the tag/stripe/DIR byte of SDnCTL, and the
            // controller changes no descriptor register of an engine that does not run. A
            // second SRST would find and leave the very registers the first one left. Any
            // other engine (its buffer freed, its state changed, a handshake that failed)
            // goes through the full handshake, and a fault in it is STATUS_DEVICE_NOT_READY.
            if !a.inResetSinceAllocation {
                guard streamReset(i) else {
                    makeSafe(i)
                    platform.freePages(data + [bdl])
                    throw .deviceNotReady
                }
            }
            a.inResetSinceAllocation = false
            a.buffer = .dma(DmaBufferRecord(mdl: mdl, bdlPage: bdl, notifications: notifications, entryCount: entries.count))
            s.engines[i].allocation = a
            let fifo = programBuffer(i, a)
            refreshInterruptTarget(i, a)
            return (mdl, a.tag, fifo)
        }
    }

    /// FreeDmaBuffer and FreeDmaBufferWithNotification (with the MDL and size the
    /// allocation returned), for the client `client` (rules and statuses:
    /// `DmaBufferRoutines.freeDmaBuffer` and `NotificationRoutines.freeDmaBufferWithNotification`).
    func freeDmaBuffer(client: UInt32, handle: DmaEngineHandle, withNotification: Bool,
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

    /// RegisterNotificationEvent, for the client `client`
    /// (`NotificationRoutines.registerNotificationEvent(_:event:)`).
    func registerNotificationEvent(client: UInt32, handle: DmaEngineHandle, event: NotificationEvent) throws(NTStatus) {
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

    /// UnregisterNotificationEvent, for the client `client`
    /// (`NotificationRoutines.unregisterNotificationEvent(_:event:)`).
    func unregisterNotificationEvent(client: UInt32, handle: DmaEngineHandle, event: NotificationEvent) throws(NTStatus) {
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

    /// AllocateContiguousDmaBuffer, for the client `client`
    /// (`BdlRoutines.allocateContiguousDmaBuffer(_:requestedBufferSize:)`).
    func allocateContiguousDmaBuffer(client: UInt32, handle: DmaEngineHandle, requested: Int) throws(NTStatus) -> ContiguousDmaBuffer {
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
            _ = platform.zeroPages(data + [bdl])
            a.buffer = .contiguous(ContiguousRecord(dataPages: data, bdlPage: bdl, setup: nil))
            s.engines[i].allocation = a
            return ContiguousDmaBuffer(dataBuffer: DmaMemory(address: data[0], length: data.count * pageSize),
                                       bdlBuffer: DmaMemory(address: bdl, length: pageSize))
        }
    }

    /// SetupDmaEngineWithBdl, for the client `client`: the BDL check, then the programming
    /// (rules and statuses: `BdlRoutines.setupDmaEngineWithBdl`).
    func setupDmaEngineWithBdl(client: UInt32, handle: DmaEngineHandle, bufferLength: UInt32, lvi: UInt16,
                      isr: @escaping BdlInterruptHandler, context: UInt) throws(NTStatus) -> BdlEngineSetup {
        try require(.passive)
        return try locked { (s: inout BusState) throws(NTStatus) -> BdlEngineSetup in
            let i = try s.index(of: handle, client: client)
            var a = s.engines[i].allocation!
            guard a.state == .reset, case .contiguous(var r)? = a.buffer else { throw .invalidDeviceRequest }
            guard (1...255).contains(lvi), bufferLength > 0, Int(bufferLength) % a.format.blockBytes == 0,
                  (Int(lvi) + 1) * BDLEntry.size <= platform.pageSize   // the BDL lies in its one page
            else { throw .invalidParameter }
            let dataStart = GuestAddress(r.dataPages[0])
            guard let dataEnd = dataStart.adding(UInt64(r.dataPages.count * platform.pageSize)),
                  let table = platform.readMemory(r.bdlPage, count: (Int(lvi) + 1) * BDLEntry.size) else { throw .invalidParameter }
            var total: UInt64 = 0
            for n in 0...Int(lvi) {
                let e = BDLEntry(bytes: table[(n * BDLEntry.size)..<((n + 1) * BDLEntry.size)])
                let start = GuestAddress(e.address)
                guard e.length > 0, start.isAligned(to: BDLEntry.alignment), start >= dataStart,
                      let end = start.adding(UInt64(e.length)), end <= dataEnd
                else { throw .invalidParameter }
                total += UInt64(e.length)
            }
            guard total == UInt64(bufferLength) else { throw .invalidParameter }
            // The engine runs only what was checked: the checked entries go into a page of the
            // bus's own, which is what BDPL/BDPU name (the client's BDL page is never programmed).
            if r.checkedBdlPage == nil {
                guard let page = platform.allocatePages(count: 1, contiguous: true)?.first else { throw .insufficientResources }
                r.checkedBdlPage = page
                a.buffer = .contiguous(r)
                s.engines[i].allocation = a
            }
            var copy = Array(table)
            copy += [UInt8](repeating: 0, count: platform.pageSize - copy.count)
            platform.writeMemory(r.checkedBdlPage!, bytes: copy)
            guard streamReset(i) else {
                makeSafe(i)
                r.setup = nil
                if let page = r.checkedBdlPage { platform.freePages([page]) }   // the engine is unprogrammed
                r.checkedBdlPage = nil
                a.buffer = .contiguous(r)
                s.engines[i].allocation = a
                refreshInterruptTarget(i, a)
                throw .deviceNotReady
            }
            r.setup = BdlSetupRecord(bufferLength: bufferLength, lvi: lvi, isr: isr, context: context)
            a.inResetSinceAllocation = false
            a.buffer = .contiguous(r)
            s.engines[i].allocation = a
            let fifo = programBuffer(i, a)
            refreshInterruptTarget(i, a)
            return BdlEngineSetup(streamId: a.tag, fifoSize: fifo)
        }
    }

    /// FreeContiguousDmaBuffer, for the client `client`
    /// (`BdlRoutines.freeContiguousDmaBuffer(_:)`).
    func freeContiguousDmaBuffer(client: UInt32, handle: DmaEngineHandle) throws(NTStatus) {
        try require(.passive)
        try locked { (s: inout BusState) throws(NTStatus) in
            let i = try s.index(of: handle, client: client)
            guard let a = s.engines[i].allocation, a.state == .reset, case .contiguous? = a.buffer
            else { throw .invalidDeviceRequest }
            releaseBuffer(i, &s)
        }
    }
}
