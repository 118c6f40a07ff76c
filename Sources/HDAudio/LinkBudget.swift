/// The link bandwidth and FIFO arithmetic of the reference's bandwidth Decision.
///
/// B is the stream's peak blocks per frame (`LinkCadence.peakBlocksPerFrame`).
/// Output cost = B x channels x sample bits, charged whole to SDO0 when unstriped, or
/// ceil(cost / k) to each of SDO0 ... SDOk-1 when striped over k lines; each SDO line
/// holds OUTPAY x 16 bits. Input cost = 10 + 8 x ceil(B x channels x bits / 8), charged
/// to the codec's SDI line, which holds INPAY x 16 bits. FIFO words per frame =
/// ceil(B x channels x container bytes / 2), at most OUTSTRMPAY or INSTRMPAY.
public enum LinkBudget {
    /// The payload of one frame of the stream in bits (B x channels x sample bits).
    public static func payloadBits(_ format: StreamFormat) throws(NTStatus) -> Int {
        try LinkCadence(format).peakBlocksPerFrame * format.linkBitsPerBlock
    }

    /// Output cost in bits per frame, before striping.
    public static func outputCost(_ format: StreamFormat) throws(NTStatus) -> Int {
        try payloadBits(format)
    }

    /// The bits charged to each of SDO0 ... SDO(lines - 1) for an output stream.
    public static func outputChargePerLine(_ format: StreamFormat, stripeLines lines: Int) throws(NTStatus) -> Int {
        precondition([1, 2, 4].contains(lines))
        let cost = try outputCost(format)
        return (cost + lines - 1) / lines
    }

    /// Input cost in bits per frame on the codec's SDI line (header plus byte-padded blocks).
    public static func inputCost(_ format: StreamFormat) throws(NTStatus) -> Int {
        LinkTiming.inboundHeaderBits + 8 * ((try payloadBits(format) + 7) / 8)
    }

    /// FIFO use in 16-bit words per frame.
    public static func fifoWords(_ format: StreamFormat) throws(NTStatus) -> Int {
        let bytes = try LinkCadence(format).peakBlocksPerFrame * format.blockBytes
        return (bytes + 1) / 2
    }

    /// One SDO line's budget in bits for an OUTPAY value.
    public static func sdoLineBudget(outpay: UInt16) -> Int { Int(outpay) * 16 }
    /// One SDI line's budget in bits for an INPAY value.
    public static func sdiLineBudget(inpay: UInt16) -> Int { Int(inpay) * 16 }
}
