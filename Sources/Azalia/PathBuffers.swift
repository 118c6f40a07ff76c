import Foundation
import HDACodec
import HDAController
import HDAudio
import HDAudioBus
import Synchronization

/// Engines and buffers: allocation, the buffer each interface version offers, and their release.
extension PathRunner {
    func allocate(_ direction: StreamDirection, format: StreamFormat, iface: OpenInterface) throws(AudioPathError) -> StreamRun {
        let before = Set(try busResources().engines.map(\.index))
        let allocation: DmaEngineAllocation
        let address = Int(options.codecAddress)
        let stripe = options.stripe
        if direction == .render {
            allocation = try ddi("AllocateRenderDmaEngine", ["format": .string(format.compact), "stripe": .string(stripe ? "true" : "false")]) { () throws(NTStatus) in
                try iface.common.allocateRenderDmaEngine(format: format, stripe: stripe)
            }
        } else {
            allocation = try ddi("AllocateCaptureDmaEngine", ["format": .string(format.compact), "codecAddress": .number(Double(address))]) { () throws(NTStatus) in
                try iface.common.allocateCaptureDmaEngine(codecAddress: address, format: format)
            }
        }
        guard let summary = try busResources().engines.first(where: { !before.contains($0.index) }) else {
            throw .stalled("the bus reported no new engine after an allocation")
        }
        let s = StreamRun(direction: direction, format: format, allocation: allocation, summary: summary)
        trace?.nameThread(TraceRecorder.engineThread(summary.index),
                          "engine \(summary.index) (\(summary.kind.rawValue), \(direction.rawValue), tag \(summary.tag))")
        return s
    }

    func allocateBuffer(_ s: StreamRun, iface: OpenInterface) throws(AudioPathError) {
        let requested = options.requestedBufferBytes
        let bb = s.format.blockBytes
        let handle = s.allocation.handle
        let tid = TraceRecorder.engineThread(s.summary.index)
        let trace = self.trace
        let platform = system.platform
        switch iface {
        case .base(let i):
            let b = try ddi("AllocateDmaBuffer", engineArgs(s)) { () throws(NTStatus) in try i.allocateDmaBuffer(handle, requestedBufferSize: requested) }
            s.region = .pages(b.mdl)
            s.size = b.allocatedBufferSize
            s.streamId = b.streamId
            s.fifoSize = Int(b.fifoSize)
            s.bufferReport = BufferReport(requestedBytes: requested, bytes: s.size, pages: b.mdl.pages.count,
                                          bdlEntries: system.bus.bufferLayout.entries(size: s.size, blockBytes: bb, notifications: 0)?.count ?? 0,
                                          notificationsPerBuffer: 0)
        case .v2(let i):
            let b = try ddi("AllocateDmaBufferWithNotification", engineArgs(s).merging(["notificationCount": 2]) { a, _ in a }) { () throws(NTStatus) in
                try i.allocateDmaBufferWithNotification(handle, notificationCount: 2, requestedBufferSize: requested)
            }
            s.region = .pages(b.mdl)
            s.size = b.allocatedBufferSize
            s.streamId = b.streamId
            s.fifoSize = Int(b.fifoSize)
            s.bufferReport = BufferReport(requestedBytes: requested, bytes: s.size, pages: b.mdl.pages.count,
                                          bdlEntries: system.bus.bufferLayout.entries(size: s.size, blockBytes: bb, notifications: 2)?.count ?? 0,
                                          notificationsPerBuffer: 2)
            let counter = s.notifications
            let event = NotificationEvent(name: "engine \(s.summary.index)") { _ in
                counter.add(1)
                trace?.instant("notification", category: "notification", frame: platform.frame, tid: tid)
            }
            s.event = event
            try ddi("RegisterNotificationEvent", engineArgs(s)) { () throws(NTStatus) in try i.registerNotificationEvent(handle, event: event) }
        case .bdl(let i):
            let b = try ddi("AllocateContiguousDmaBuffer", engineArgs(s)) { () throws(NTStatus) in
                try i.allocateContiguousDmaBuffer(handle, requestedBufferSize: requested)
            }
            // The client's BDL: two halves, each cut into 128-byte aligned entries of at most
            // one page, IOC at the end of each half.
            let unit = DmaBufferLayout.unit(blockBytes: bb, notifications: 2)!
            let length = min(b.dataBuffer.length, system.bus.bufferLayout.maxBytes) / unit * unit
            guard length > 0 else { throw .driver(.ddi(routine: "AllocateContiguousDmaBuffer", status: .bufferTooSmall)) }
            var entries: [BDLEntry] = []
            for half in 0..<2 {
                var at = half * length / 2
                let end = (half + 1) * length / 2
                while at < end {
                    let n = min(system.bus.bufferLayout.pageSize, end - at)
                    entries.append(BDLEntry(address: b.dataBuffer.address + UInt64(at), length: UInt32(n), interruptOnCompletion: at + n == end))
                    at += n
                }
            }
            let table = entries.flatMap(\.bytes)
            guard system.platform.writeMemory(b.bdlBuffer.address, bytes: table) else {
                throw .driver(.ddi(routine: "AllocateContiguousDmaBuffer", status: .insufficientResources))
            }
            let counter = s.interrupts
            let isr: BdlInterruptHandler = { mask, _ in
                counter.add(1)
                trace?.instant("interrupt", category: "interrupt", frame: platform.frame, tid: tid,
                               args: ["InterruptBitMask": .number(Double(mask))])
            }
            let lvi = UInt16(entries.count - 1)
            let setup = try ddi("SetupDmaEngineWithBdl", engineArgs(s).merging(["bufferLength": .number(Double(length)), "lvi": .number(Double(lvi))]) { a, _ in a }) { () throws(NTStatus) in
                try i.setupDmaEngineWithBdl(handle, bufferLength: UInt32(length), lvi: lvi, isr: isr, context: UInt(s.summary.index))
            }
            s.region = .contiguous(b.dataBuffer.address, length)
            s.size = length
            s.streamId = setup.streamId
            s.fifoSize = Int(setup.fifoSize)
            s.bufferReport = BufferReport(requestedBytes: requested, bytes: length, pages: b.dataBuffer.length / system.bus.bufferLayout.pageSize,
                                          bdlEntries: entries.count, notificationsPerBuffer: 2)
        }
        s.position = try ddi("GetLinkPositionRegister", engineArgs(s)) { () throws(NTStatus) in try iface.common.getLinkPositionRegister(handle) }
    }

    func freeBuffer(_ s: StreamRun, iface: OpenInterface) throws(AudioPathError) {
        let handle = s.allocation.handle
        switch (iface, s.region) {
        case (.base(let i), _):
            try ddi("FreeDmaBuffer", engineArgs(s)) { () throws(NTStatus) in try i.freeDmaBuffer(handle) }
        case (.v2(let i), .pages(let mdl)):
            if let event = s.event {
                try ddi("UnregisterNotificationEvent", engineArgs(s)) { () throws(NTStatus) in try i.unregisterNotificationEvent(handle, event: event) }
            }
            let size = s.size
            try ddi("FreeDmaBufferWithNotification", engineArgs(s)) { () throws(NTStatus) in
                try i.freeDmaBufferWithNotification(handle, bufferMdl: mdl, bufferSize: size)
            }
        case (.bdl(let i), _):
            try ddi("FreeContiguousDmaBuffer", engineArgs(s)) { () throws(NTStatus) in try i.freeContiguousDmaBuffer(handle) }
        default:
            break
        }
    }

}
