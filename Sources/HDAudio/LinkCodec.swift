/// What sits on the far side of the link at one SDI address: a codec, as the controller sees it.
///
/// The controller calls these methods while it advances link time. Stream data crosses
/// in the memory layout of the stream's format (little-endian containers, samples
/// left-justified); only the top `validBitsPerSample` bits of each container travel on
/// the link, so a codec must ignore the bits below them. Calls for one stream come in
/// frame order, each naming the first frame of the run and the blocks in it.
public protocol LinkCodec: AnyObject {
    /// Output stream data on SDO: `blocks` sample blocks of the stream tagged `tag`,
    /// carried in the frames starting at `frame`. Every attached codec sees every packet;
    /// a codec keeps what its converters listen for.
    func linkReceive(tag: UInt8, format: ConverterFormat, frame: UInt64, blocks: Int, data: UnsafeRawBufferPointer)

    /// Input stream data on this codec's SDI line: fill `data` with `blocks` sample blocks
    /// for tag `tag` starting at `frame` and return true, or return false when no
    /// converter of this codec sends that tag (the controller then records silence).
    func linkTransmit(tag: UInt8, format: ConverterFormat, frame: UInt64, blocks: Int, into data: UnsafeMutableRawBufferPointer) -> Bool

    /// A command verb from the CORB (bits 31:28 codec address, 27:20 node, 19:0 verb and
    /// payload). Returns the 32-bit response, or nil when the codec does not answer.
    func linkCommand(_ verb: UInt32) -> UInt32?

    /// The next unsolicited response the codec wants to send (tag in bits 31:26), if any.
    ///
    /// The controller polls at batch boundaries (while GCTL.UNSOL is set and the codecs are
    /// awake), and batches are sized from events it knows in advance. So a codec must queue
    /// unsolicited responses only between the controller's `advance` calls (a jack change
    /// from the host, for example) or from `linkCommand` (the command path moves time one
    /// frame at a time): then the response takes the codec's SDI slot on the same frame
    /// however time is batched. A response queued inside `linkReceive` or `linkTransmit`,
    /// whose calls span many frames when time is batched, is still sent, but at the next
    /// batch boundary, whose frame depends on the batching.
    func linkPollUnsolicited() -> UInt32?

    /// The link was reset (CRST): converters lose their stream and format settings.
    func linkReset()

    /// Whether what the codec transmits may depend on what it received (a DAC looped back
    /// into an ADC): the controller then hands it every frame's output before it asks for
    /// that frame's input, however time is batched. A codec whose input is independent of
    /// its output may say false and spare the controller that ordering. Default: true.
    var linkInputFollowsOutput: Bool { get }
}

extension LinkCodec {
    /// Default: no unsolicited responses.
    public func linkPollUnsolicited() -> UInt32? { nil }
    /// Default: nothing to reset.
    public func linkReset() {}
    public var linkInputFollowsOutput: Bool { true }
}
