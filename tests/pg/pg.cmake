# The `postgres` test fixture: a throwaway PostgreSQL server that ctest starts before the first
# test requiring the fixture and stops after the last one (see pg_server.sh). Tests that need it
# set FIXTURES_REQUIRED postgres and read the connection URL from the file named by
# FLOWPILOT_TEST_PG_URL_FILE.
option(FLOWPILOT_TEST_POSTGRES
       "also run the store-backed suites against a PostgreSQL server started by the tests" ON)

if(FLOWPILOT_TEST_POSTGRES)
  set(flowpilot_pg_script ${CMAKE_CURRENT_LIST_DIR}/pg_server.sh)
  set(flowpilot_pg_dir ${CMAKE_BINARY_DIR}/pg-test)
  set(FLOWPILOT_TEST_PG_URL_FILE ${flowpilot_pg_dir}/url)

  add_test(NAME pg_server_start COMMAND bash ${flowpilot_pg_script} start ${flowpilot_pg_dir})
  set_tests_properties(pg_server_start PROPERTIES
    FIXTURES_SETUP postgres LABELS postgres TIMEOUT 120)

  add_test(NAME pg_server_stop COMMAND bash ${flowpilot_pg_script} stop ${flowpilot_pg_dir})
  set_tests_properties(pg_server_stop PROPERTIES
    FIXTURES_CLEANUP postgres LABELS postgres TIMEOUT 120)

  # The harness's own check: the URL it wrote reaches the server over TCP. psql comes with the
  # server packages, so it is looked up where pg_server.sh finds the server.
  file(GLOB flowpilot_pg_bindirs LIST_DIRECTORIES true /usr/lib/postgresql/*/bin)
  list(SORT flowpilot_pg_bindirs COMPARE NATURAL ORDER DESCENDING)
  find_program(FLOWPILOT_PSQL psql
               HINTS /usr/lib/postgresql/15/bin ${flowpilot_pg_bindirs} /usr/bin)
  if(FLOWPILOT_PSQL)
    set(flowpilot_psql ${FLOWPILOT_PSQL})
  else()
    # Not installed at configure time (scripts/setup.sh without --tests): resolved when run.
    set(flowpilot_psql psql)
  endif()
  set(flowpilot_pg_smoke [[test "$("$0" -X -v ON_ERROR_STOP=1 -tAc 'SELECT 1' "$(cat "$1")")" = 1]])
  add_test(NAME pg_server_smoke
           COMMAND bash -c ${flowpilot_pg_smoke} ${flowpilot_psql} ${FLOWPILOT_TEST_PG_URL_FILE})
  set_tests_properties(pg_server_smoke PROPERTIES
    FIXTURES_REQUIRED postgres LABELS postgres TIMEOUT 60)
endif()

# Several flowpilot processes on PostgreSQL under faults (fault_test.sh): SIGKILLed and SIGSTOPped
# workers, the scheduling's leader killed, PostgreSQL restarted. It starts and restarts a server
# of its own, so it does not use the `postgres` fixture; RUN_SERIAL because its timing (a 3 s
# lease TTL, cron every 2 s) must not compete with the heavy suites for the machine.
if(FLOWPILOT_TEST_POSTGRES)
  add_test(NAME pg_fault_test
           COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/fault_test.sh $<TARGET_FILE:flowpilot>)
  set_tests_properties(pg_fault_test PROPERTIES
    LABELS postgres RUN_SERIAL TRUE TIMEOUT 300
    ENVIRONMENT FLOWPILOT_PSQL=${flowpilot_psql})
endif()
