build/common/clock.o: common/clock.c common/pidbox.h
common/pidbox.h:
