public import HDAudio

/// A codec that records every output packet by tag and generates input from a counter.
public final class TestCodec: LinkCodec {
    /// Bytes received per tag, concatenated.
    public var received: [UInt8: [UInt8]] = [:]
    /// Blocks received per tag.
    public var receivedBlocks: [UInt8: Int] = [:]
    /// (tag, frame, blocks) of every receive call.
    public var calls: [(tag: UInt8, frame: UInt64, blocks: Int)] = []
    /// Tags this codec transmits on its SDI line.
    public var transmitTags: Set<UInt8>
    /// What it answers for `linkInputFollowsOutput` (its input never depends on its output,
    /// so either answer is true to it; false lets the controller run inputs without first
    /// catching the outputs up).
    public var inputFollowsOutput = true
    public var linkInputFollowsOutput: Bool { inputFollowsOutput }
    /// The next byte value generated per tag.
    public var nextByte: [UInt8: UInt8] = [:]
    /// Bytes sent per tag.
    public var sent: [UInt8: [UInt8]] = [:]
    public var resets = 0
    public var seed: UInt8
    /// When set, the codec behaves as one whose converters follow their verbs: every block
    /// it receives is noted with the count of verbs it had by then (`verbsAtBlock`), and
    /// every byte it sends carries that count (XORed in).
    public var followsVerbs = false
    /// Per tag, the verb count at each block received (with `followsVerbs`).
    public var verbsAtBlock: [UInt8: [Int]] = [:]
    /// Per tag, the verb count at each block sent (with `followsVerbs`).
    public var verbsAtSentBlock: [UInt8: [Int]] = [:]

    public init(transmitTags: Set<UInt8> = [], seed: UInt8 = 1) {
        self.transmitTags = transmitTags
        self.seed = seed
    }

    public func linkReceive(tag: UInt8, format: ConverterFormat, frame: UInt64, blocks: Int, data: UnsafeRawBufferPointer) {
        received[tag, default: []].append(contentsOf: data)
        receivedBlocks[tag, default: 0] += blocks
        if followsVerbs { verbsAtBlock[tag, default: []].append(contentsOf: repeatElement(verbs.count, count: blocks)) }
        calls.append((tag, frame, blocks))
    }

    public func linkTransmit(tag: UInt8, format: ConverterFormat, frame: UInt64, blocks: Int,
                      into data: UnsafeMutableRawBufferPointer) -> Bool {
        guard transmitTags.contains(tag) else { return false }
        var value = nextByte[tag] ?? seed
        let mark = followsVerbs ? UInt8(truncatingIfNeeded: verbs.count) : 0
        if followsVerbs { verbsAtSentBlock[tag, default: []].append(contentsOf: repeatElement(verbs.count, count: blocks)) }
        for i in 0..<data.count {
            data[i] = value ^ mark
            value = value &* 31 &+ 7
        }
        nextByte[tag] = value
        sent[tag, default: []].append(contentsOf: data)
        calls.append((tag, frame, blocks))
        return true
    }

    /// Verbs received, in order.
    public var verbs: [UInt32] = []
    /// Unsolicited responses waiting to be sent.
    public var unsolicited: [UInt32] = []
    /// Answer verbs (false: stay silent).
    public var answers = true

    public func linkCommand(_ verb: UInt32) -> UInt32? {
        verbs.append(verb)
        return answers ? verb ^ 0xABCD_0000 : nil
    }
    public func linkPollUnsolicited() -> UInt32? { unsolicited.isEmpty ? nil : unsolicited.removeFirst() }
    public func linkReset() { resets += 1 }
}

/// A codec that is present on the link and does nothing: it answers no verbs, keeps no
/// samples and sends none (the controller then records silence).
public final class QuietCodec: LinkCodec {
    /// A quiet codec.
    public init() {}
    public func linkReceive(tag: UInt8, format: ConverterFormat, frame: UInt64, blocks: Int, data: UnsafeRawBufferPointer) {}
    public func linkTransmit(tag: UInt8, format: ConverterFormat, frame: UInt64, blocks: Int, into data: UnsafeMutableRawBufferPointer) -> Bool { false }
    public func linkCommand(_ verb: UInt32) -> UInt32? { nil }
}
