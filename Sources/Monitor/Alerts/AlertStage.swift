import ServiceLifecycle

/// The ``AlertService`` as the daemon's service group runs it: it applies inputs until graceful shutdown
/// reaches it, then finishes its input stream so that everything already sent is written before it returns.
///
/// The group shuts services down in reverse order and treats a service that returns before its turn as a
/// failure; listed before the inference service, this one gets its turn only after every worker has drained
/// and handed over its last results, so finishing the stream then loses nothing.
struct AlertStage: Service {
    private let service: AlertService
    private let inputs: AsyncStream<AlertService.Input>.Continuation

    /// Runs `service`, whose input stream `inputs` feeds.
    init(service: AlertService, inputs: AsyncStream<AlertService.Input>.Continuation) {
        self.service = service
        self.inputs = inputs
    }

    /// Applies inputs until graceful shutdown (then drains) or cancellation.
    func run() async {
        await withGracefulShutdownHandler {
            await service.run()
        } onGracefulShutdown: { [inputs] in
            inputs.finish()
        }
    }
}
