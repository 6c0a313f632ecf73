build/common/log.o: common/log.c common/pidbox.h
common/pidbox.h:
