import Foundation
import HDACodec
import HDAController
import HDAudio
import HDAudioBus
import Synchronization

/// Moving the run along: state changes, step sizes, positions, refills and copies out.
extension PathRunner {
    func setState(_ state: StreamState, _ streams: [StreamRun], _ iface: OpenInterface) throws(AudioPathError) {
        let handles = streams.map(\.allocation.handle)
        try ddi("SetDmaEngineState", ["state": .string(state.description), "handles": .number(Double(handles.count))]) { () throws(NTStatus) in
            try iface.common.setDmaEngineState(state, handles: handles)
        }
        for s in streams {
            trace?.instant(state.description, category: "state", frame: system.frame, tid: TraceRecorder.engineThread(s.summary.index))
        }
    }

    /// A step of link time: at most a quarter of the smallest buffer, and `maxChunkFrames`.
    func chunkFrames(_ streams: [StreamRun]) -> UInt64 {
        var chunk = max(1, options.maxChunkFrames)
        for s in streams {
            let peak = UInt64((try? LinkCadence(s.format).peakBlocksPerFrame) ?? 4)
            let blocks = UInt64(s.size / s.dma.blockBytes)
            chunk = min(chunk, max(1, blocks / peak / 4))
        }
        return chunk
    }

    /// Twice the link time the longest stream needs, plus a second.
    func frameLimit(_ streams: [StreamRun]) -> UInt64 {
        var need: UInt64 = 0
        for s in streams {
            let blocks = UInt64((s.target + s.size) / s.dma.blockBytes + 1)
            need = max(need, blocks * LinkTiming.framesPerSecond / UInt64(s.format.sampleRate) + 1)
        }
        return 2 * need + LinkTiming.framesPerSecond
    }

    /// Reads the position register and unwraps it into bytes moved.
    func readPosition(_ s: StreamRun) {
        guard let view = s.position, s.size > 0 else { return }
        let raw = Int(view.value)
        let delta = ((raw - s.lastRaw) % s.size + s.size) % s.size
        s.moved += delta
        s.lastRaw = raw
    }

    /// After a step: read the position, then refill (render) or copy out (capture) when
    /// the interface's trigger says so: every step with BASE, on a notification with V2,
    /// after an ISR call with BDL.
    func service(_ s: StreamRun) throws(AudioPathError) {
        readPosition(s)
        trace?.counter("engine \(s.summary.index) position", frame: system.frame, values: ["bytes": Double(s.lastRaw)])
        var triggered: Bool
        switch options.interface {
        case .base: triggered = true
        case .v2:
            triggered = false
            while s.event?.tryWait() == true { triggered = true }
        case .bdl:
            triggered = s.interrupts.current != s.seenInterrupts
            s.seenInterrupts = s.interrupts.current
        }
        if s.direction == .render {
            guard s.moved <= s.client else {
                throw .fellBehind("engine \(s.summary.index) played past the data written (underrun at byte \(s.client))")
            }
            if triggered { try fill(s, upTo: s.moved + s.size) }
        } else {
            guard s.moved - s.client <= s.size else {
                throw .fellBehind("engine \(s.summary.index) recorded over data not yet copied (overrun at byte \(s.client))")
            }
            // At the end of the stream a driver reads what is there without waiting.
            if triggered || s.moved >= s.target { try copyOut(s) }
        }
    }

    /// Writes the render signal (then silence) into the cyclic buffer up to stream byte
    /// `end`, reading the signal as it goes.
    func fill(_ s: StreamRun, upTo end: Int) throws(AudioPathError) {
        let platform = system.platform
        while s.client < end {
            let offset = s.client % s.size
            let n = min(end - s.client, s.size - offset)
            if scratch.count < n { scratch = [UInt8](repeating: 0, count: n) }
            let real = min(n, max(0, s.target - s.client))
            let render = self.render
            try scratch.withMutableBytes { (buffer) throws(AudioPathError) in
                var got = 0
                if real > 0, let render { got = try render.read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[0..<real])) }
                // Silence after the signal: zero in every memory layout (samples are signed).
                if got < n { UnsafeMutableRawBufferPointer(rebasing: buffer[got..<n]).initializeMemory(as: UInt8.self, repeating: 0) }
                var at = 0
                for piece in s.region.pieces(offset..<(offset + n)) {
                    guard platform.writeMemory(piece.address, from: UnsafeRawBufferPointer(rebasing: buffer[at..<(at + piece.count)])) else {
                        throw .fellBehind("the DMA buffer of engine \(s.summary.index) is not RAM")
                    }
                    at += piece.count
                }
            }
            s.client += n
        }
    }

    /// Copies what the engine recorded behind its position out of the cyclic buffer, and
    /// hands it to `capture`.
    func copyOut(_ s: StreamRun) throws(AudioPathError) {
        let platform = system.platform
        let end = min(s.moved, s.target)
        while s.client < end {
            let offset = s.client % s.size
            let n = min(end - s.client, s.size - offset)
            if scratch.count < n { scratch = [UInt8](repeating: 0, count: n) }
            let capture = self.capture
            try scratch.withMutableBytes { (buffer) throws(AudioPathError) in
                var at = 0
                for piece in s.region.pieces(offset..<(offset + n)) {
                    guard platform.readMemory(piece.address, into: UnsafeMutableRawBufferPointer(rebasing: buffer[at..<(at + piece.count)])) else {
                        throw .fellBehind("the DMA buffer of engine \(s.summary.index) is not RAM")
                    }
                    at += piece.count
                }
                try capture?(UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
            }
            s.client += n
        }
    }
}


extension StreamFormat {
    /// The layout the engine moves for this format: the same rate, valid bits and channels
    /// in the natural container of the valid bits (SDnFMT's BITS implies the container:
    /// 8 in 8, 16 in 16, 20, 24 and 32 in 32).
    var dmaFormat: StreamFormat {
        var f = self
        f.containerSize = StreamFormat.container(forBits: validBitsPerSample)
        return f
    }
}
