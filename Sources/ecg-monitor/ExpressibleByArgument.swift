import ArgumentParser
import Monitor
import Producers

// The option types of the commands live in the libraries, which know nothing of argument parsing.

extension Config.AlertDestination: ExpressibleByArgument {}

extension ECGSimulator.Rhythm: ExpressibleByArgument {}

extension Pace: ExpressibleByArgument {}
