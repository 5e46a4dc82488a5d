"""Calibration parameters of the synthetic CBS landing zone.

Every number here is either taken from public CBS figures (CBS StatLine tables and publications, cited per constant) or
is a modelling choice written down with its reason.  The generator reads nothing else, so a recalibration
is an edit of this file only.  The truth file (``truth.json``) repeats the parameters actually used.
"""

from __future__ import annotations

# --- Population by herkomst and generation, 1 January 2018 (StatLine 37296ned) -------------------------
# Published groups are used as given.  The report's 13 non-Western groups (report 2.2: Turkije, Marokko,
# Suriname, Antillen en Aruba, Afghanistan, Irak, Iran, Somalie, Syrie, Eritrea, Afrika overig, overig
# niet-westers) split StatLine's "overig niet-westers" (933,050; 1st gen 621,682, 2nd gen 311,368); that
# split and the split of the Western total over Duitsland/Polen/Indonesie/westers overig are our own
# estimates of the 2018 sizes (order of magnitude of StatLine's per-country table), marked "est".
POPULATION_2018: dict[str, tuple[int, int]] = {
    # group: (first generation, second generation)
    "Turkije": (191_513, 212_946),
    "Marokko": (169_018, 227_521),
    "Suriname": (176_412, 175_269),
    "Antillen en Aruba": (84_526, 72_588),
    # est: the six refugee groups and Afrika overig; overig niet-westers is the remainder so that the
    # published overig total (621,682 / 311,368) holds exactly.
    "Syrië": (88_000, 12_000),
    "Eritrea": (22_000, 4_000),
    "Afghanistan": (36_000, 11_000),
    "Irak": (44_000, 16_000),
    "Iran": (33_000, 12_000),
    "Somalië": (24_000, 16_000),
    "Afrika overig": (117_000, 63_000),
    "overig niet-westers": (621_682 - 404_000, 311_368 - 134_000),
    # Western total 1st 836,178 / 2nd 892,838 (published); split est.
    "Duitsland": (118_000, 243_000),
    "Polen": (141_000, 30_000),
    "Indonesië": (100_000, 261_000),
    "westers overig": (836_178 - 359_000, 892_838 - 534_000),
}
POPULATION_2018_NONE = 13_209_225  # geen migratieachtergrond
POPULATION_2018_TOTAL = 17_181_084

NON_WESTERN = (
    "Turkije", "Marokko", "Suriname", "Antillen en Aruba", "Afghanistan", "Irak", "Iran", "Somalië",
    "Syrië", "Eritrea", "Afrika overig", "overig niet-westers",
)
WESTERN = ("Duitsland", "Polen", "Indonesië", "westers overig")
REFUGEE_GROUPS = ("Afghanistan", "Irak", "Iran", "Somalië", "Syrië", "Eritrea")
GROUPS = NON_WESTERN + WESTERN + ("Nederland",)

# --- Arrival of the first generation: (weight, first year, last year) windows per group ------------------
# Stylised migration waves (guest workers TR/MA, Surinamese independence, asylum waves, EU enlargement
# 2004/2007 for Poland, Syrian and Eritrean asylum 2014-2016).  Years after 2018 are extrapolated.
ARRIVAL_WINDOWS: dict[str, list[tuple[float, int, int]]] = {
    "Turkije": [(0.45, 1965, 1993), (0.55, 1994, 2026)],
    "Marokko": [(0.45, 1965, 1993), (0.55, 1994, 2026)],
    "Suriname": [(0.6, 1970, 1993), (0.4, 1994, 2026)],
    "Antillen en Aruba": [(0.35, 1975, 1993), (0.65, 1994, 2026)],
    "Afghanistan": [(0.7, 1994, 2004), (0.3, 2005, 2026)],
    "Irak": [(0.7, 1994, 2004), (0.3, 2005, 2026)],
    "Iran": [(0.45, 1985, 1993), (0.55, 1994, 2026)],
    "Somalië": [(0.6, 1990, 2002), (0.4, 2003, 2026)],
    "Syrië": [(0.05, 1990, 2013), (0.8, 2014, 2017), (0.15, 2018, 2026)],
    "Eritrea": [(0.05, 1990, 2013), (0.75, 2014, 2018), (0.2, 2019, 2026)],
    "Afrika overig": [(0.3, 1975, 1999), (0.7, 2000, 2026)],
    "overig niet-westers": [(0.3, 1975, 1999), (0.7, 2000, 2026)],
    "Duitsland": [(0.55, 1950, 1993), (0.45, 1994, 2026)],
    "Polen": [(0.1, 1980, 2003), (0.9, 2004, 2026)],
    "Indonesië": [(0.9, 1946, 1970), (0.1, 1971, 2026)],
    "westers overig": [(0.35, 1960, 1993), (0.65, 1994, 2026)],
}

# Share of men among the first generation (asylum waves were mostly male).
MALE_SHARE_FIRST_GEN = {g: 0.5 for g in GROUPS} | {
    "Syrië": 0.6, "Eritrea": 0.6, "Afghanistan": 0.57, "Irak": 0.58, "Iran": 0.55, "Somalië": 0.5, "Polen": 0.55,
}

# Second generation: (mean, sd) of birth year, clipped to [1930, last year].
SECOND_GEN_BIRTH_YEAR = {
    "Turkije": (1995, 11), "Marokko": (1997, 10), "Suriname": (1990, 14), "Antillen en Aruba": (1996, 12),
    "Afghanistan": (2008, 6), "Irak": (2008, 6), "Iran": (2003, 9), "Somalië": (2007, 7), "Syrië": (2015, 4),
    "Eritrea": (2016, 3), "Afrika overig": (2004, 9), "overig niet-westers": (2000, 12),
    "Duitsland": (1968, 18), "Polen": (2010, 7), "Indonesië": (1962, 14), "westers overig": (1985, 17),
}

# --- Migration dynamics (yearly hazards) ------------------------------------------------------------------
EMIGRATION_HAZARD = {"none": 0.002, "second": 0.004, "first": 0.03, "first_Polen": 0.09,
                     "first_westers overig": 0.06, "first_refugee": 0.008}
RETURN_PROBABILITY = 0.3          # emigrants who come back (repeat migration)
EARLIER_STAY_PROBABILITY = 0.1     # first gen with an earlier, separate stay after 1 Oct 1994
GBA_START = (1994, 10, 1)          # GBAMIGRATIEBUS and address registration start (report 2.2)

# Share of persons with RINPERSOONS other than "R" (not matched to the population register) that appear
# as extra jobs in SPOLISBUS: cross-border workers and the like (CBS file conventions).
NON_R_JOB_SHARE = 0.01

# --- Labour market ----------------------------------------------------------------------------------------
# Target employment propensity (employee or self-employed) for persons in the labour-market ages who left
# school: logit(e) = base + group + generation + education + sex + age + cycle + newcomer.  Values tuned so
# that netto participation 15-75 lands near StatLine 82809NED (see tests/test_synth_calibration.py).
EMP_BASE = 2.08
EMP_GROUP = {g: 0.0 for g in GROUPS} | {
    "Turkije": -0.55, "Marokko": -0.6, "Suriname": -0.2, "Antillen en Aruba": -0.45, "Afghanistan": -0.7,
    "Irak": -0.9, "Iran": -0.55, "Somalië": -1.1, "Syrië": -1.1, "Eritrea": -1.1, "Afrika overig": -0.65,
    "overig niet-westers": -0.45, "Duitsland": -0.05, "Polen": 0.15, "Indonesië": -0.05, "westers overig": -0.25,
}
EMP_SECOND_GEN = 0.25          # second generation closes part of the gap
EMP_EDU = {"laag": -0.7, "middelbaar": 0.0, "hoog": 0.6}
EMP_FEMALE = -0.35
EMP_FEMALE_EXTRA = {"Turkije": -0.35, "Marokko": -0.45, "Afghanistan": -0.4, "Irak": -0.5, "Syrië": -0.6,
                    "Somalië": -0.4}
# Newcomer penalty by years since arrival (refugee groups only, report 7.2.5 / asielstatushouders).
NEWCOMER_PENALTY = [(2, -2.0), (5, -0.9)]   # (< years since arrival, logit shift)

# Unemployment rate 15-75 (%, CBS StatLine): drives the business cycle.
UNEMPLOYMENT_TOTAL = {2006: 5.0, 2007: 4.2, 2008: 3.7, 2009: 4.4, 2010: 5.0, 2011: 5.0, 2012: 5.8, 2013: 7.3,
                      2014: 7.4, 2015: 6.9, 2016: 6.0, 2017: 4.9, 2018: 3.8, 2019: 3.4, 2020: 3.8, 2021: 4.2}
CYCLE_SLOPE = -0.13    # logit shift per percentage point of unemployment above 5%
CYCLE_GROUP_MULT_NONWESTERN = 1.6   # the cycle hits non-Western groups harder (report 5.2 context)

# Monthly separation hazard (job loss) and its modifiers.
SEPARATION_BASE = 0.011
SEPARATION_TEMP = 2.2          # temporary contracts end more often
SEPARATION_PERM = 0.55
SEPARATION_YOUNG = 1.6         # under 27
SEPARATION_NONWESTERN = 1.35
JOB_TO_JOB = 0.009             # monthly hazard of a direct change of employer
TEMP_TO_PERM = 0.03            # monthly hazard within the same job
TEMP_TO_PERM_NONWESTERN = 0.8  # planted gap (report 4e)
SECOND_JOB_START = 0.005
SECOND_JOB_END = 0.08

# Destination of a job loss.
P_WW_AFTER_TENURE = 0.65       # tenure >= 6 months
P_WW_SHORT_TENURE = 0.25
P_AO_FROM_JOB = 0.05
P_BIJSTAND_DIRECT = {"nonwestern": 0.08, "other": 0.03}
WW_MAX_MONTHS = (3, 24)
P_BIJSTAND_AFTER_WW = {"nonwestern": 0.35, "other": 0.15}
BIJSTAND_INFLOW_FROM_OTHER = {"nonwestern": 0.012, "other": 0.004}
BIJSTAND_EXIT_OTHER = 0.008
FIND_FACTOR = {"OTHER": 1.0, "WW": 1.35, "BIJSTAND": 0.35, "SOCVOORZ": 0.08, "AO": 0.05}
P_SELF = {"nonwestern": 0.11, "other": 0.13}
SELF_EXIT = 0.007
AO_RECOVERY = 0.005
ZW_SHARE = 0.35                # of AO/ZW spells: sickness benefit, short
ZW_EXIT = 0.25
WAJONG_AT_SCHOOL_LEAVE = 0.012
EARLY_PENSION_60 = 0.003

# Side jobs of pupils/students and pensioners (SECM stays 26/31 resp. 25; report 2.1 excludes them).
STUDENT_JOB_START = 0.08
STUDENT_JOB_END = 0.04
STUDENT_JOB_INITIAL = {"15-17": 0.45, "18+": 0.65}   # share with a side job at the start of the simulation
PENSIONER_KEEP_JOB = 0.3
PENSIONER_JOB_END = 0.015

# Contracts and job kinds.
P_TEMP_START = {"young": 0.7, "adult": 0.38}
P_TEMP_START_NONWESTERN_EXTRA = 0.06
PAYROLL_JOB_SHARE = 0.03       # target only, not read: payroll jobs are the jobs at payroll employers (40 % of the uitzend employers, labour.py), 2.4-3.4 % of jobs; recorded O until 2016, B from 2017 (footnote 13)
FOUR_WEEKLY_EMPLOYER_SHARE = 0.25
P_INTERN = 0.15                # of student jobs: internship (SSOORTBAAN 2)
P_ON_CALL = 0.12               # of temporary jobs of the young: oproepkracht, contract hours 0
P_CONTRACT_N = 0.005           # contract type N (niet van toepassing) besides DGA jobs
P_LOWERCASE_CODE = 0.002       # "o"/"b" in SCONTRACTSOORT (CBS file documentation: lower case occurs)
P_DGA = 0.012                  # of the employed: director-major shareholder (SECM 12)

# Hours and wages.
WAGE_PREMIUM = {"laag": 0.22, "middelbaar": 0.42, "hoog": 0.85}     # log points above the hourly WML
WAGE_AGE_SLOPE = 0.012
WAGE_GAP_NONWESTERN = 0.07
WAGE_SD = 0.22
WAGE_GROWTH_MEAN = 0.02
WAGE_GROWTH_SD = 0.035
INCOME_CAP = 1_000_000          # INPATAB/IPI capped until 2010 (report 4.2; trend break income_cap_2010)
INCOME_MISSING = 9_999_999_999

# --- EBB (labour force survey) ----------------------------------------------------------------------------
EBB_SAMPLE_SHARE = 0.25        # of persons 15+ living in NL; large because synthetic populations are small
EBB_SEARCH = {"WW": 0.65, "BIJSTAND": 0.25, "OTHER": 0.16, "SOCVOORZ": 0.04, "AO": 0.03, "SCHOOL": 0.04,
              "PENSION": 0.005}
EBB_AVAILABLE = 0.85
# Search intensity follows the business cycle (more recent job losers search in a slack market): the search
# probabilities are multiplied by (unemployment of the year / 5) ** EBB_SEARCH_CYCLE_POWER.
EBB_SEARCH_CYCLE_POWER = 1.0
AGE_TERMS = [(20, -1.0), (23, -0.4), (55, 0.0), (60, -0.5), (65, -1.2)]   # (age below, logit shift); older: -1.5
EMP_TO_SELF = 0.0008           # monthly; with SELF_EXIT this keeps self-employment near 12% of the employed
