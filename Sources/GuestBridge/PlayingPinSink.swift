public import HDACodec
import HDAudio

/// The heard file of a real chip's dump in the guest: what the best output pin that plays
/// hears. A driver's quirk can move its primary output to another pin than the dump's
/// configuration defaults suggest (Linux's fixup for the Quanta KN1's ALC260 plays through
/// 0x10, a headphone jack by the dump, and leaves 0x0f, its line out, off), so every output
/// pin is listened to and, when the first samples arrive, the best-ranked pin a DAC plays
/// into then (`DumpCodec.playingOutputPins`) is chosen: the file is what reaches that pin.
public final class PlayingPinSink {
    let target: any SampleSink
    weak var codec: DumpCodec?
    /// The pin heard, once samples reached one.
    public private(set) var pin: UInt8?

    /// Listens to every output pin of `codec`, writing the chosen one's samples to `target`.
    public init(_ target: any SampleSink, listeningTo codec: DumpCodec) {
        self.target = target
        self.codec = codec
        for w in codec.graph.rankedOutputPins { codec.setSink(Listener(self, pin: w.id), pin: w.id) }
    }

    func consume(from pin: UInt8, _ data: UnsafeRawBufferPointer, blocks: Int, format: StreamFormat) {
        if self.pin == nil { self.pin = codec?.playingOutputPins.first ?? pin }
        if pin == self.pin { target.consume(data, blocks: blocks, format: format) }
    }

    /// One pin's ear.
    final class Listener: SampleSink {
        let owner: PlayingPinSink
        let pin: UInt8
        init(_ owner: PlayingPinSink, pin: UInt8) {
            self.owner = owner
            self.pin = pin
        }
        func consume(_ data: UnsafeRawBufferPointer, blocks: Int, format: StreamFormat) {
            owner.consume(from: pin, data, blocks: blocks, format: format)
        }
    }
}
