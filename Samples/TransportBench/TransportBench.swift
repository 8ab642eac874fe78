// Placeholder: the transport benchmark is being written.
@main
struct TransportBench {
    static func main() {}
}
