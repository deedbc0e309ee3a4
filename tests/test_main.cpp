// The test binaries' main: Catch2's, except that a run in which no test case matched its filter fails.
// ctest runs each discovered test case by name; a name that does not select itself (Catch's discovery
// splits names at ';', for one) must show up as a failure, not as a pass that tested nothing.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

int main(int argc, char* argv[]) {
  Catch::Session session;
  if (const int rc = session.applyCommandLine(argc, argv); rc != 0) return rc;
  auto& config = session.configData();
  config.warnings = static_cast<Catch::WarnAbout::What>(config.warnings | Catch::WarnAbout::NoTests);
  return session.run();
}
