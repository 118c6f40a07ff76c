/// The greatest common divisor of two non-negative integers (Euclid).
public func greatestCommonDivisor(_ a: Int, _ b: Int) -> Int {
    var (x, y) = (a, b)
    while y != 0 { (x, y) = (y, x % y) }
    return x
}

/// The least common multiple of two positive integers, or nil when it does not fit in an Int.
public func leastCommonMultiple(_ a: Int, _ b: Int) -> Int? {
    guard a > 0, b > 0 else { return nil }
    let (product, overflow) = (a / greatestCommonDivisor(a, b)).multipliedReportingOverflow(by: b)
    return overflow ? nil : product
}

extension Duration {
    /// The duration in seconds, as a Double (for rates and reports).
    public var seconds: Double {
        let c = components
        return Double(c.seconds) + Double(c.attoseconds) * 1e-18
    }
}
