dofile(os.getenv("WRK_REPORT_LUA"))
