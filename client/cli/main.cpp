// `brook`: administration of a Kafka cluster (Brook or any other) from the command line.
//   brook [-b host:port] [-X key=value]... [--command-config FILE] <group> <command> [options]
// Command groups are registered here, each from its own file (topic_commands.cpp, group_commands.cpp,
// produce_commands.cpp, consume_commands.cpp, perf_commands.cpp).
#include <iostream>

#include "cli.hpp"

int main(int argc, char** argv) {
  using namespace brook::client::cli;
  context ctx;
  CLI::App app{"brook: work with a Kafka cluster (topics, consumer groups, producing, consuming, load tests)", "brook"};
  app.set_version_flag("--version", BROOK_VERSION);
  app.add_option("-b,--bootstrap-server", ctx.bootstrap, "The brokers to connect to, host:port[,host:port...]")
      ->capture_default_str();
  app.add_option("-X,--property", ctx.properties,
                 "A client property key=value, repeatable: the admin client's keys, or for produce, consume and perf the producer's or consumer's")
      ->type_name("KEY=VALUE");
  app.add_option("--command-config", ctx.command_config, "A file of client properties, one key=value a line")
      ->check(CLI::ExistingFile);
  app.require_subcommand(1);
  app.fallthrough();

  add_topic_commands(app, ctx);
  add_group_commands(app, ctx);
  add_produce_commands(app, ctx);
  add_consume_commands(app, ctx);
  add_perf_commands(app, ctx);

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return exit_usage;
  }
  return ctx.exit;
}
