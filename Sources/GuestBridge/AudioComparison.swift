public import HDACodec

/// How the audio that came out of the codec's DAC compares with the file the guest played.
public struct PlaybackComparison: CustomStringConvertible {
    /// Blocks in the input file.
    public var inputBlocks: Int
    /// Blocks the DAC received.
    public var heardBlocks: Int
    /// Blocks the DAC received before the first block of the file (silence the driver
    /// queued ahead of it), or nil when the file's first blocks never arrived.
    public var leadingBlocks: Int?
    /// True when the file arrived whole, sample for sample, after the leading blocks.
    public var equal: Bool
    /// The first differing block of the file, when not equal.
    public var firstDifference: Int?
    /// Blocks after the file: the end-of-stream tail.
    public var tailBlocks: Int
    /// Of the tail, blocks of digital silence.
    public var tailSilentBlocks: Int
    /// Of the tail, blocks that repeat the file's own samples (the driver's ring, played
    /// again before the DMA engine was stopped).
    public var tailReplayedBlocks: Int

    /// Compares a heard WAV with the input (same format required: the guest plays hw:0,0,
    /// so the DAC gets the file's own format).
    public init(input: WAVFile, heard: WAVFile) {
        let b = input.format.blockAlign
        inputBlocks = input.blockCount
        heardBlocks = heard.format == input.format ? heard.blockCount : 0
        leadingBlocks = nil
        equal = false
        firstDifference = nil
        tailBlocks = 0
        tailSilentBlocks = 0
        tailReplayedBlocks = 0
        guard heard.format == input.format, inputBlocks > 0, heardBlocks > 0 else { return }
        // The first block of the file in what was heard (leading silence may precede it).
        let probe = min(inputBlocks, 16)
        let head = input.data[0..<(probe * b)]
        var lead: Int?
        for o in 0...max(0, heardBlocks - probe) where heard.data[(o * b)..<((o + probe) * b)].elementsEqual(head) {
            lead = o
            break
        }
        guard let lead else { firstDifference = 0; return }
        leadingBlocks = lead
        let available = min(inputBlocks, heardBlocks - lead)
        for k in 0..<available where !heard.data[((lead + k) * b)..<((lead + k + 1) * b)].elementsEqual(input.data[(k * b)..<((k + 1) * b)]) {
            firstDifference = k
            return
        }
        guard available == inputBlocks else { firstDifference = available; return }
        equal = true
        let tailStart = lead + inputBlocks
        tailBlocks = heardBlocks - tailStart
        // Replayed ring content: a tail block equal to the file block a whole ring earlier.
        var blocks = Set<[UInt8]>()
        for k in max(0, inputBlocks - 48_000)..<inputBlocks { blocks.insert(Array(input.data[(k * b)..<((k + 1) * b)])) }
        for k in tailStart..<heardBlocks {
            let block = heard.data[(k * b)..<((k + 1) * b)]
            if block.allSatisfy({ $0 == 0 }) { tailSilentBlocks += 1 } else if blocks.contains(Array(block)) { tailReplayedBlocks += 1 }
        }
    }

    /// One line.
    public var description: String {
        guard equal, let lead = leadingBlocks else {
            if heardBlocks == 0 { return "NO: the DAC received nothing in the file's format" }
            return "NO: the file differs from block \(firstDifference ?? 0) of \(inputBlocks) (\(heardBlocks) blocks heard)"
        }
        var s = "yes, sample for sample (\(inputBlocks) blocks"
        if lead > 0 { s += ", after \(lead) leading blocks" }
        s += ")"
        if tailBlocks > 0 {
            s += "; tail of \(tailBlocks) blocks after the file: \(tailReplayedBlocks) replay the driver's ring"
                + " (the DMA runs until the driver stops it), \(tailSilentBlocks) silent, "
                + "\(tailBlocks - tailReplayedBlocks - tailSilentBlocks) other"
        }
        return s
    }
}

/// How a recording brought out of the guest compares with what the codec's ADC played.
public struct RecordingComparison: CustomStringConvertible {
    /// Blocks recorded.
    public var recordedBlocks: Int
    /// Where the recording's first block is in the source, or nil when it is not there.
    public var offset: Int?
    /// Blocks that matched the source in order.
    public var matchedBlocks: Int
    /// The first recorded block that broke the sequence, with what happened there.
    public var fault: (block: Int, what: String)?

    /// Compares `recorded` with `source`, which must share a format. Every recorded block
    /// must be the source's next block: a jump forward is missing blocks, a jump back a
    /// repeat. Blocks recorded after the source ended must be silence.
    public init(source: WAVFile, recorded: WAVFile) {
        recordedBlocks = recorded.blockCount
        offset = nil
        matchedBlocks = 0
        fault = nil
        let b = source.format.blockAlign
        guard source.format == recorded.format else { fault = (0, "format \(recorded.format), source \(source.format)"); return }
        guard recordedBlocks > 0 else { fault = (0, "nothing recorded"); return }
        func block(_ f: WAVFile, _ k: Int) -> ArraySlice<UInt8> { f.data[(k * b)..<((k + 1) * b)] }
        let probe = min(8, recordedBlocks)
        var start: Int?
        for o in 0...max(0, source.blockCount - probe) where (0..<probe).allSatisfy({ block(recorded, $0).elementsEqual(block(source, o + $0)) }) {
            start = o
            break
        }
        guard let start else { fault = (0, "the recording's first blocks are not in the source"); return }
        offset = start
        for k in 0..<recordedBlocks {
            let r = block(recorded, k)
            let s = start + k
            if s >= source.blockCount {
                guard r.allSatisfy({ $0 == 0 }) else { fault = (k, "not silence after the source ended"); return }
            } else if !r.elementsEqual(block(source, s)) {
                let window = max(0, s - 4800)..<min(source.blockCount, s + 4800)
                if let j = window.first(where: { $0 != s && r.elementsEqual(block(source, $0)) }) {
                    fault = (k, j > s ? "\(j - s) blocks missing" : "\(s - j) blocks repeated")
                } else {
                    fault = (k, "a block not in the source")
                }
                return
            }
            matchedBlocks += 1
        }
    }

    /// True when every block followed its predecessor.
    public var intact: Bool { fault == nil }

    /// One line.
    public var description: String {
        if let fault { return "NO: at recorded block \(fault.block): \(fault.what) (\(matchedBlocks) blocks in order before it)" }
        return "yes: \(recordedBlocks) blocks, each the source's next (from source block \(offset ?? 0)), none missing or repeated"
    }
}
