public import HDAudio

/// The codecs attached to the link, one per SDI line.
extension HDAController {

    /// Attaches a codec at SDI address `address` (0 ..< profile.sdiLines). STATESTS shows
    /// it after the codec wake that follows CRST exit (at once if the link is already
    /// awake). Returns false, changing nothing, for an address the profile lacks.
    @discardableResult
    public func attach(_ codec: any LinkCodec, at address: Int) -> Bool {
        guard codecs.indices.contains(address) else { return false }
        codecs[address] = codec
        if codecsAwake {
            values[table.statests] |= 1 << UInt32(address)
            updateInterrupts()   // a state change: CIS when WAKEEN has the address
        }
        return true
    }

    /// Detaches the codec at `address`, if any.
    public func detach(at address: Int) {
        guard codecs.indices.contains(address) else { return }
        codecs[address] = nil
    }

    /// The codec attached at `address`.
    public func codec(at address: Int) -> (any LinkCodec)? {
        codecs.indices.contains(address) ? codecs[address] : nil
    }
}
