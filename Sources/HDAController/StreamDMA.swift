import HDAudio

/// Stream DMA over a batch: the position buffer, moving blocks entry by entry (IOC and BCIS,
/// LPIB wrap at CBL), and the samples sent to and received from the codecs.
extension HDAController {
    /// Where the position buffer starts, when DPLBASE enables it (and there are engines).
    var positionBufferBase: GuestAddress? {
        let dpl = values[table.dplbase]
        guard BaseAddressLow.positionBufferEnable.isSet(in: dpl), !engines.isEmpty else { return nil }
        return GuestAddress(UInt64(values[table.dpubase]) << 32 | UInt64(dpl & BaseAddressLow.address.mask))
    }

    /// The position buffer's size: one entry per descriptor.
    var positionBufferBytes: Int { engines.count * PositionBuffer.entrySize }

    func writePositionBuffer() {
        guard let base = positionBufferBase else { return }
        guard let host = memory.hostPointer(base, length: UInt64(positionBufferBytes)) else {
            positionBufferErrors += 1
            return
        }
        // Every advance ends here, so the LPIBs are read straight from the register file:
        // one per descriptor, SDReg.count registers apart.
        let first = table.sd(0, .lpib), stride = SDReg.count
        values.withUnsafeBufferPointer { v in
            for n in 0..<engines.count {
                (host + n * PositionBuffer.entrySize).storeBytes(of: v[first + n * stride].littleEndian, as: UInt32.self)
            }
        }
    }

    /// Moves `blocks` sample blocks of an active engine through its cyclic buffer, entry by
    /// entry: BCIS at the end of every IOC entry, LPIB back to 0 at CBL.
    func move(_ e: StreamEngine, blocks: UInt64, relativeStart r0: UInt64) {
        let blockBytes = UInt64(e.blockBytes)
        var remaining = blocks * blockBytes
        while remaining > 0 {
            let chunk = min(remaining, e.entryLength[e.entry] - e.entryOffset, e.cbl - e.lpib)
            let pointer = e.entryHost[e.entry]! + Int(e.entryOffset)
            if e.output {
                sendOutput(e, pointer, Int(chunk), r0: r0)
            } else {
                receiveInput(e, pointer, Int(chunk), r0: r0)
            }
            e.entryOffset += chunk
            e.lpib += chunk
            remaining -= chunk
            if e.entryOffset == e.entryLength[e.entry] {
                if e.entryIOC[e.entry] {
                    e.stats.completions += 1
                    setSD(e.index, .sts, sdValue(e.index, .sts) | UInt32(StreamStatus.bufferCompletion.rawValue))
                }
                e.entry += 1
                e.entryOffset = 0
                if e.entry == e.entryCount { e.entry = 0 }
            }
            if e.lpib == e.cbl {
                e.lpib = 0
                e.entry = 0
                e.entryOffset = 0
            }
        }
        e.stats.bytesMoved += blocks * blockBytes
        e.stats.blocksMoved += blocks
        if e.output {
            // Striping: bits go round-robin over the lines, MSB on SDO0. A block's bits are
            // channels x (8, 16, 20, 24 or 32), a multiple of 4, so each line gets exactly
            // bits / lines in every frame.
            let bits = blocks * UInt64(e.bitsPerBlock)
            let share = bits / UInt64(e.stripeLines)
            for line in 0..<e.stripeLines { sdoBitsCarried[line] += share }
        }
    }

    /// The absolute frame that carries the engine's block `block` (counted from runStart).
    @inline(__always)
    func frameOf(_ e: StreamEngine, block: UInt64, r0: UInt64) -> UInt64 {
        e.runStart + e.cadence.frame(reaching: block + 1, notBefore: r0) - 1
    }

    func sendOutput(_ e: StreamEngine, _ start: UnsafeMutableRawPointer, _ count: Int, r0: UInt64) {
        var p = start, c = count
        let bb = e.blockBytes
        if e.gathered > 0 {
            let take = min(bb - e.gathered, c)
            (e.scratch + e.gathered).copyMemory(from: p, byteCount: take)
            e.gathered += take
            p += take
            c -= take
            if e.gathered == bb {
                deliverOutput(e, e.scratch, blocks: 1, r0: r0)
                e.gathered = 0
            }
        }
        let whole = c / bb
        if whole > 0 {
            deliverOutput(e, p, blocks: whole, r0: r0)
            p += whole * bb
            c -= whole * bb
        }
        if c > 0 {
            e.scratch.copyMemory(from: p, byteCount: c)
            e.gathered = c
        }
    }

    func deliverOutput(_ e: StreamEngine, _ data: UnsafeMutableRawPointer, blocks: Int, r0: UInt64) {
        let at = frameOf(e, block: e.blocksDone, r0: r0)
        let buffer = UnsafeRawBufferPointer(start: data, count: blocks * e.blockBytes)
        for codec in codecs {
            codec?.linkReceive(tag: e.tag, format: e.format, frame: at, blocks: blocks, data: buffer)
        }
        e.blocksDone += UInt64(blocks)
    }

    func receiveInput(_ e: StreamEngine, _ start: UnsafeMutableRawPointer, _ count: Int, r0: UInt64) {
        var p = start, c = count
        let bb = e.blockBytes
        if e.scatterLeft > 0 {
            let take = min(e.scatterLeft, c)
            p.copyMemory(from: e.scratch + (bb - e.scatterLeft), byteCount: take)
            e.scatterLeft -= take
            p += take
            c -= take
        }
        let whole = c / bb
        if whole > 0 {
            fetchInput(e, p, blocks: whole, r0: r0)
            p += whole * bb
            c -= whole * bb
        }
        if c > 0 {
            fetchInput(e, e.scratch, blocks: 1, r0: r0)
            p.copyMemory(from: e.scratch, byteCount: c)
            e.scatterLeft = bb - c
        }
    }

    /// Input: the first attached codec (by address) that sends the engine's tag fills the
    /// blocks; when none does, the engine records silence (zeros).
    func fetchInput(_ e: StreamEngine, _ data: UnsafeMutableRawPointer, blocks: Int, r0: UInt64) {
        let at = frameOf(e, block: e.blocksDone, r0: r0)
        let byteCount = blocks * e.blockBytes
        let buffer = UnsafeMutableRawBufferPointer(start: data, count: byteCount)
        e.blocksDone += UInt64(blocks)
        for address in codecs.indices {
            if let codec = codecs[address],
               codec.linkTransmit(tag: e.tag, format: e.format, frame: at, blocks: blocks, into: buffer) {
                sdiBitsCarried[address] += UInt64(blocks * e.bitsPerBlock)
                return
            }
        }
        data.initializeMemory(as: UInt8.self, repeating: 0, count: byteCount)
        e.stats.silentBlocks += UInt64(blocks)
    }
}
