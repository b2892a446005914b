"""Word lists of the identifier scrubber (``pipeline.privacy``): surnames, given-name
characters, English first names, role and kinship words, titles, and the ordinary words that
look like names. Lists are space-separated strings: easy to read and to extend."""

from __future__ import annotations


def words(text: str) -> tuple[str, ...]:
    """The words of a space-separated list, in order, without duplicates."""
    return tuple(dict.fromkeys(text.split()))


# ---- Chinese surnames ----------------------------------------------------------------------

SURNAMES_2 = words(
    "欧阳 司马 上官 诸葛 东方 皇甫 尉迟 公孙 慕容 长孙 宇文 司徒 夏侯 令狐 端木 西门 南宫 独孤 呼延 "
    "轩辕 澹台 公冶 宗政 濮阳 太叔 申屠 钟离 闻人 赫连 万俟 单于 左丘 东郭 百里 拓跋 完颜 纳兰 司空 "
    "乐正 公羊 鲜于 闾丘 仲孙 叔孙 东门 第五 谷梁 漆雕 亓官 段干 梁丘 微生 巫马 公良 南门 羊舌"
)
# Compound surnames that do not begin ordinary words: a name with one of these is a name
# wherever it stands ("上官婉儿来电反映").
SURNAMES_2_ANYWHERE = words(
    "欧阳 司马 上官 诸葛 皇甫 尉迟 慕容 宇文 司徒 夏侯 令狐 端木 独孤 呼延 轩辕 澹台 公冶 濮阳 申屠 "
    "赫连 拓跋 完颜 纳兰 鲜于 闾丘 亓官 万俟 钟离"
)
# Single-character surnames: the ~300 most common and rarer ones met in records.
SURNAMES_1 = "".join(
    dict.fromkeys(
        "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程"
        "苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付傅方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛"
        "郝龚邵万钱严覃武戴莫孔向汤温施文牛樊葛邢齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿兰焦俞左柳甘"
        "祝宁尚符舒阮柯纪梅童凌毕季裴霍成苗谷盛曲翁冉骆蓝游辛靳柴蒙鲍华喻祁蒲房滕屈饶牟艾尤阳穆农"
        "司卓古吉缪简项芦麦褚娄窦戚岑景党宫费卜冷晏席卫米柏宗瞿桂佟臧闵苟邬卞姬师仇栾隋商刁沙荣巫"
        "寇桑郎甄丛仲虞敖巩明佘池苑迟邝车包关查单井全伏竺鄢隆应蔺练郁冼禤佴訾谯谌亓宓阙芮巴晋楚"
        "闻聂甘涂揭封危扈邸党蓟钭厉鞠眭"
        # from the Hundred Family Surnames, those that are rare in ordinary text, and modern
        # surnames the classic lacks
        "奚凤酆廉萧湛禹狄贝茅昝裘贲杭钮嵇荀於惠羿汲邴糜隗蓬郗戎韶郜邰屠鬱胥苍莘逄堵宰郦雍郤璩濮"
        "寿燕冀郏浦阎慕茹宦戈庾暨弘匡禄殳沃蔚夔厍晁阚毋乜巢蒯逯桓佟栗鄢粟"
    )
)
# ---- Chinese given names -------------------------------------------------------------------

# Characters of given names and nicknames. After a role word a name is a surname and one or
# two of these, so "患者高处坠落" or "患儿左手" are not names.
GIVEN = "".join(
    dict.fromkeys(
        "伟强磊军勇杰涛斌超明刚平辉鹏华飞鑫波宇浩凯健俊帆晨阳子轩航博文睿泽然梓豪一鸣思远天佑"
        "芳娜敏静丽艳娟霞秀英慧婷雪琳晶燕玲丹萍红梅颖欣怡佳琪涵诗雨可馨妍紫萱桐若曦彤建国志海东"
        "林峰亮成龙云春兰凤洁玉珍莉桂荣淑香琴素娥翠莲美花菊敬德福贵生祥财宝山江河湖松柏青清新伦"
        "立中正武兵庆全安永长友发民利胜旺兴顺忠义仁礼信智勤俭泉源洪宏鸿彬坤鹤翔瑞祺琦琛瑶璐露蕾"
        "蓉薇菲倩茜媛嫣婉婕娴妮姗悦乐朵甜蓓蕊晓小凡晗昊昕晟曜煜熙烨炎焱森楠柯栋梁楷桦杨柳毅铭锋"
        "钢铁锦镇钧锐澄沛淼润溪渊潇洋浪滨澜沐添诚诺谦逸遥达迪进运道邦郁坚培基堂增墨壮家宁宗定宜"
        "容富寒尧峻崇嵩巍川州帅希年庭康廷弘彦彪影心忆念怀恒恩惠意振捷斐旭昌晋晖景曼月朗朝枫栩"
        "桢梦棠楚榕欢歌毓水汉沁治泓泰津淳深溢滢漫潮灵炜烁焕照熠爽玮环珊珠琅琼瑜瑾璇璟甫田男畅百"
        "皓盈益真瞳石硕祖禹秋程稳童竹笑策简米纯纪经维绮缘羽翊翰耀聪舒良艺芝芬芸芮苗茂茹荷莎莹菁"
        "萌蒙蓝蔚蕙虹融衡誉语豪贝贤赋起越路辰迅郎锡闻阔隆雁雅雄雯霖霏靖韬韵颂飘驰骏魁麟黎鼎齐晴"
        "冰冬凌凝初剑励勋卉卫卿厚双叶君咏品哲唯善嘉园圣城奇奕奎姣姿威娇婧婵媚嫦孝孟学守实宣宸宾"
        "宽寅尚岚峥巧幸庄弦彩征微惜慈慕懿承拓持敦斯旋昀昭晔暄本朴杉杭杏杞果柔树栗桃桥梧棋椿榆樱"
        "檀泊法洲浚涓淇渝湘滔澈灿炫炳烈烽燃爱牧献玥珂珏珺琬瑗瑛璧甄由盛眉知研碧祎福秦稼穆端笛筱"
        "精纬绍绪继绿缨羡翼耕聆育胤腾舟芃芊芙芷苑苹茗荔莺菡萧葳蔓蕴薰虎蝶裕谊谨豫贞贺赛赫跃轶迎"
        "连通醇钦钰铃银镜闰阁陶雍霄非顾飒馥驹骞鸥鹰麒黛龄儿丫妞娃蛋豆宝贝芹庚辛壬癸甲乙丙丁二三"
        "四五六七八九大少老会来复兆蓬根娣妹招弟仙芝莺鹃燕琼枝珠巧凤彩桂娟霞秋芬兰英翠荣梅媚"
        "满堂金银铜锁柱栓拴坤乾元光耀辉祥瑞泰福禄寿喜庆春夏冬雷电霆震岳峰岭崖川江湖海波涛浪"
        "洋淼鑫森晶磊品众赟犇骉焱垚淼晶晗昱暄璐琪瑶蓉莹滢萱潇雯霏婧娅妤婕姝娅嫒嫣妩"
        "迈克莎拉尔特丽娅琳娜斯圆糖球"
    )
)
# Reduplicated nicknames that are ordinary words too.
NOT_NICKNAMES = words("宝宝 宝贝 天天 常常 刚刚 渐渐 偏偏 好好 轻轻 悄悄 人人 明明 大大 小小")
# Two-character words made of a surname and a given-name character that are ordinary words.
NOT_NAMES = frozenset(
    words(
        "白天 白云 白色 高大 高兴 高中 高新 高明 高温 高速 高压 高层 高楼 高度 江南 江湖 马上 马力 金色 "
        "金子 金属 石子 方便 方向 温和 温柔 齐全 安全 安静 成年 成人 成功 成都 华丽 黄金 黄色 常年 明亮 "
        "明天 明年 明星 明显 明确 文明 文化 向阳 龙头 牛奶 毛巾 童年 童车 田园 阳光 宁静 平安 平时 平常 "
        "平静 平衡 平台 平地 平路 水平 和平 史上 左右 左边 左侧 右侧 于是 于今 向前 向后 向下 向上 雷雨 "
        "周一 周二 周三 周四 周五 周六 周日 周天 周末 周岁 周边 周围 周年 丁香 余生 余下 夏天 秋天 冬天 "
        "春天 冷水 冷天 冷静 凌晨 游乐 游玩 甘心 申明 卫生 单元 单人 单一 车道 车上 车子 车里 全家 全身 "
        "全天 全程 关节 关心 关东 查明 查体 包子 包里 项目 项链 景区 房间 房子 房东 房门 沙子 商场 商家 "
        "米饭 米粉 古代 吉祥 柏油 苗子 麦子 谷子 花生 简单 艾草 池子 池塘 钱包 钱币 席子 桂花 师傅 师生 "
        "盛夏 蓝天 蓝色 柴火 鲍鱼 曲线 毕业 井水 应急 应该 应当 宫颈 冉冉 隆起 隆冬 练习 仇人 荣誉 严重 "
        "严格 严实 严冬 农家 农田 农民 司机 卓越 霍乱 党员 朱红 红色 文具 石头 孔洞 乔木 叶子 胡子 杨树 "
        "柳树 林子 梁上 虎口 童装 童鞋 万一 万能 东西 连续 连接 通道 明火 易燃 易碎 易拉 曾经 符合 尚未 "
        "莫名 甘蔗 蒙古 顾客 钟表 钟点 武术 武器 戴着 陆续 舒服 舒适 舒张 房屋 巩固 温度 温水 施工 时间 "
        "江边 阳台 黎明 万家 杜鹃 梅花 兰花 菊花 桃花 牛仔 马路 马桶 马甲 马达 石膏 石板 金鱼 金龙 季节 "
        "季度 成长 成品 华为 向日 向着 向来 宁可 毛衣 毛毯 车轮 车门 车窗 包装 包扎 全部 全新 关上 关门 "
        "查看 单车 单手 单脚 余热 孙子 孙女 老人 老师 老家 小孩 小区 小便 小腿 小时 小学 小心 小米 小儿 "
        "阿姨 高处 高空 明白 文字 应用 雷电 古老 简易 管道 苏醒 曲奇 冷冻 冷藏 冷却 热水 师姐 师兄 师父 "
        "老房 老毛 老白 老成 老实 老于 老师 老年 老汤 老牛 老虎 巴士 晋级 楚楚 闻到 封闭 危险 涂抹 涂料 "
        "揭开 厉害 金桂 车中 车内 车座 车架 车把 车筐 车篮 车顶 车身 车后 车前 车厢 车库 车棚 车位 "
        "床上 床边 床栏 椅上 凳上 房中 房内"
    )
)
# Well-known brands that are (or look like) person names: never scrubbed as names.
NAME_BRANDS = words(
    "王老吉 李宁 张小泉 周大福 周黑鸭 陈克明 王守义 李锦记 杨国福 马应龙 雷允上 谭木匠 孔乙己 "
    "周生生 谢馥春 王致和 张裕 曹素功 胡庆余堂 吴裕泰 郑明明 丁家宜 钱大妈 老干妈 老凤祥 阿华田"
) + (
    "Martha Stewart",
    "Mr. Coffee",
    "Dr. Brown's",
    "Dr. Scholl's",
    "Mr. Clean",
    "Mr. Heater",
    "Mr. Muscle",
    "Dr Pepper",
    "Hamilton Beach",
    "Peg Perego",
    "Little Tikes",
)

# ---- Chinese context words -----------------------------------------------------------------

ROLE_WORDS_ZH = words(
    "患者家属 患儿父亲 患儿母亲 患儿家长 主治医师 主治医生 接诊医生 值班医生 值班护士 责任护士 分诊护士 "
    "主管护士 管床医生 患者 患儿 病人 病儿 伤者 伤员 孩子 小孩 儿童 婴儿 幼儿 男孩 女孩 男童 女童 宝宝 "
    "老人 其母亲 其父亲 其母 其父 其妻 其夫 其子 其女 其兄 其姐 其弟 其妹 其祖父 其祖母 其外公 其外婆 "
    "其爷爷 其奶奶 其家属 其监护人 母亲 父亲 妈妈 爸爸 家长 家属 监护人 联系人 丈夫 妻子 老公 老婆 "
    "爱人 儿子 女儿 儿媳 女婿 孙子 孙女 外孙 外孙女 侄子 侄女 外甥 外甥女 爷爷 奶奶 外公 外婆 姥姥 "
    "姥爷 哥哥 姐姐 弟弟 妹妹 表哥 表姐 表弟 表妹 堂哥 堂姐 姐夫 嫂子 叔叔 伯伯 舅舅 舅妈 姑姑 婶婶 "
    "岳父 岳母 公公 婆婆 邻居 同事 朋友 同学 室友 舍友 保姆 护工 老师 班主任 教练 护士 医生 医师 大夫 "
    "报告人 填报人 陪同人 陪护 司机 店主 店员 店长 老板 卖家 商家 业主 物业 门卫 保安 工友 工人 "
    "安装工人 目击者 证人 肇事者 车主 房东 租客 回访人 受访人 接听人 被访者 村干部 名叫 叫做 名为 "
    "名字叫 名字是 姓名 患者姓名 患儿姓名 病人姓名 家属姓名 联系人姓名 监护人姓名 大名 小名 乳名 学名 "
    "本名 真名 原名 母 父 妻 夫"
)
# Role words that ordinary words often follow ("患者高处坠落", "婴儿车中"): after these a
# candidate name that is an ordinary word (NOT_NAMES) is kept.
WEAK_ROLES_ZH = frozenset(
    words(
        "患者 患儿 病人 病儿 伤者 伤员 孩子 小孩 儿童 婴儿 幼儿 男孩 女孩 男童 女童 宝宝 老人 母 父 妻 夫"
    )
)
# After kinship and other role words (其母, 邻居, 护士) only these are not names.
NOT_NAMES_AFTER_KIN = frozenset(
    words(
        "于是 于今 向前 向后 向下 向上 全身 全家 单手 高处 周岁 左右 左边 左侧 右侧 平时 马上 明显"
    )
)
NAME_LABELS = words("患者姓名 患儿姓名 病人姓名 家属姓名 联系人姓名 监护人姓名 姓名 联系人")
TITLES_ZH = words(
    "先生 女士 小姐 太太 老师 医生 医师 大夫 护士 师傅 阿姨 叔叔 伯伯 大爷 大妈 大娘 大伯 大叔 大嫂 "
    "大姐 大哥 奶奶 爷爷 婆婆 阿婆 阿公 老太 老汉 同学 律师 警官 经理 主任 书记 村长 队长 科长 老板 "
    "总 工 婶 叔 姨 伯 嫂 哥 姐 婆"
)
# Verbs and particles that follow a person's name at the start of a clause ("何敏称…").
VERBS_AFTER_NAME = words(
    "称 说 诉 讲 述 表示 接听 反映 确认 陪同 提供 出差 未接 同意 拒绝 回复 介绍 告知 反馈 答复 来电 "
    "致电 要求 希望 认为 签字 的电话 的手机 的微信 的邮箱 本人 自述 代诉 家属 女士 先生 奶奶 爷爷 "
    "阿姨 大爷 母亲 父亲 一家"
)
# Words right before a name that is the object of a verb ("需与何敏确认", "联系张伟").
BEFORE_NAME = words("与 和 跟 同 向 给 让 由 请 找 联系 告知 通知 据 转告 寄给 是 问 致电 电话联系")
# Syllables of Uyghur, Tibetan and Mongolian names as written in Chinese.
MINORITY_NAME_PARTS = words(
    "阿依古丽 古丽 买买提 艾力 热合曼 努尔 吐尔逊 阿不都 阿卜杜 阿里木 阿迪力 依明 艾买提 帕提古丽 "
    "扎西 多吉 卓玛 次仁 格桑 旺堆 德吉 拉姆 央金 白玛 索朗 达瓦 尼玛 平措 洛桑 巴特尔 巴图 其其格 "
    "乌兰 斯琴 图雅 那仁 苏日娜 额尔敦 宝音 孟和"
)

# ---- English -------------------------------------------------------------------------------

# Common given names (US and international): a capitalised word from this list followed by a
# capitalised word is a person's name wherever it stands ("Reached Amber Collins at ...").
FIRST_NAMES = words(
    "James John Robert Michael William David Richard Joseph Thomas Charles Christopher Daniel "
    "Matthew Anthony Mark Donald Steven Paul Andrew Joshua Kenneth Kevin Brian George Timothy "
    "Ronald Edward Jason Jeffrey Ryan Jacob Gary Nicholas Eric Jonathan Stephen Larry Justin "
    "Scott Brandon Benjamin Samuel Gregory Alexander Frank Patrick Raymond Jack Dennis Jerry "
    "Tyler Aaron Jose Adam Nathan Henry Douglas Zachary Peter Kyle Ethan Walter Noah Jeremy "
    "Christian Keith Roger Terry Gerald Harold Sean Austin Carl Arthur Lawrence Dylan Jesse "
    "Jordan Bryan Billy Joe Bruce Gabriel Logan Albert Willie Alan Juan Wayne Elijah Randy Roy "
    "Vincent Ralph Eugene Russell Bobby Mason Philip Louis Harry Howard Fred Martin Ernest Craig "
    "Victor Todd Shawn Clarence Chris Derek Marcus Tony Luis Carlos Miguel Jorge Pedro Alejandro "
    "Diego Ricardo Mario Antonio Francisco Manuel Rafael Hector Andre Andres Pierre Jean Luc "
    "Hans Klaus Stefan Lars Sven Erik Olaf Ivan Dmitri Sergei Igor Ali Omar Ahmed Mohammed "
    "Mohamed Hassan Hussein Yusuf Ibrahim Raj Ravi Rahul Amit Vikram Arjun Sanjay Anil Suresh "
    "Kenji Hiroshi Takeshi Yuki Kenta Jun Min Wei Ming Jian Hao Lei Jin Chen Hong Tanner Hunter "
    "Cody Colton Connor Caleb Owen Luke Isaac Liam Lucas Aiden Jayden Jaylen Jalen Carter Wyatt "
    "Levi Grayson Lincoln Cameron Evan Chase Blake Bradley Travis Trevor Garrett Dustin Derrick "
    "Marvin Curtis Leon Darnell Tyrone Jamal DeShawn Malik Terrell Reggie Dwayne Andy Ken Ben "
    "Sam Tom Tim Jim Jimmy Johnny Danny Mike Steve Dave Rick Nick Matt Josh Jake Alex Max Leo "
    "Theo Oscar Felix Hugo Simon Colin Neil Ian Graham Duncan Angus Declan Liam Niall Rory "
    "Mary Patricia Jennifer Linda Elizabeth Barbara Susan Jessica Sarah Karen Lisa Nancy Betty "
    "Margaret Sandra Ashley Kimberly Emily Donna Michelle Carol Amanda Dorothy Melissa Deborah "
    "Stephanie Rebecca Sharon Laura Cynthia Kathleen Amy Angela Shirley Anna Brenda Pamela Emma "
    "Nicole Helen Samantha Katherine Christine Debra Rachel Carolyn Janet Catherine Maria Heather "
    "Diane Ruth Julie Olivia Joyce Virginia Victoria Kelly Lauren Christina Joan Evelyn Judith "
    "Megan Andrea Cheryl Hannah Jacqueline Martha Gloria Teresa Ann Sara Madison Frances Kathryn "
    "Janice Jean Abigail Alice Judy Sophia Grace Denise Amber Doris Marilyn Danielle Beverly "
    "Isabella Theresa Diana Natalie Brittany Charlotte Marie Kayla Alexis Lori Tiffany Vivian "
    "Stella Hailey Haley Ava Mia Chloe Zoe Lily Ella Aria Nora Riley Layla Luna Penelope Eleanor "
    "Naomi Ruby Claire Audrey Leah Allison Savannah Brooklyn Paisley Madeline Quinn Erin Colleen "
    "Siobhan Aoife Niamh Carmen Rosa Ana Lucia Sofia Valentina Camila Gabriela Marisol Daniela "
    "Fernanda Paula Elena Isabel Ines Priya Anjali Deepa Lakshmi Fatima Aisha Yasmin Leila Mei "
    "Ling Xiu Yan Hui Fang Jing Yuki Sakura Keiko Akiko Yumi Hana Debbie Susie Katie Kate Jenny "
    "Becky Sue Peggy Kathy Cathy Patty Tina Gina Dana Tracy Stacy Wendy Holly Molly Polly Dolly "
    "Carrie Marisa Melanie Monica Veronica Erica Jasmine Latoya Keisha Ebony Tasha Shanice "
    "Donna Janet Bill Will Liz Beth Meg Jen Jess Sam Alex Chris Pat Terry Jordan Taylor Casey "
    "Morgan Jamie Robin Lee Ashley Dale Francis Leslie Shannon Kelly Nurlan Ahmet Mehmet Emre "
    "Ayse Fatma Jacob Hailey Gabriel Jaylen Ravi Shankar Wen Lin Grace Rebecca Daniel Pierre "
    "Marisol Victor Eleanor Harold Amber Nancy Chris Erin George Ken Susan Aiden Bobby Karen"
)
ROLE_WORDS_EN = words(
    "patient pt mother mom mum mommy father dad daddy parent parents guardian son daughter wife "
    "husband brother sister grandmother grandma granny grandfather grandpa granddaughter "
    "grandson aunt auntie uncle cousin neighbor neighbour friend nurse caregiver babysitter "
    "nanny teacher coach boyfriend girlfriend roommate witness caller contact spouse partner "
    "sibling child toddler infant baby boy girl owner landlord landlady driver named called "
    "name informant reporter stepmother stepfather stepmom stepdad niece nephew fiance fiancee "
    "classmate coworker co-worker employer family reached spoke with kids kid children twins "
    "siblings foreman supervisor manager boss technician installer seller vendor tenant "
)
# After these (weak) role words one capitalised word is a name only if it is a known first
# name ("Son Ken", but "boy Scout").
WEAK_ROLES_EN = frozenset(
    words(
        "child boy girl son daughter toddler infant baby contact caller owner driver partner "
        "friend called name with reached spoke kids kid children twins siblings foreman "
        "supervisor manager boss technician installer seller vendor tenant"
    )
)
NOT_NAMES_EN = frozenset(
    words(
        "The This That These Those He She It His Her Hers They Them Their We You Who Was Is Are "
        "Has Had Have And But Or Not To From With Without At In On Of For By As After Before When "
        "While States Stated Reports Reported Says Said Presented Presents Came Comes Brought "
        "Fell Found Called Calls Noted Notes Denies Denied Arrived Unknown None Other Patient "
        "Mother Father Emergency Department Hospital Home School Street Avenue Road Today "
        "Yesterday Monday Tuesday Wednesday Thursday Friday Saturday Sunday January February "
        "March April May June July August September October November December Also Then Later "
        "Nurse Doctor Parent Guardian Caller Contact Name Number Phone Address Email Via Per Re "
        "Left Right Both Cell Tel Injury Injured Burn Fracture Laceration Product Brand Model "
        "Batch Lot Serial Unit Apt Suite Floor Room Police Fire Were Will Would Could Should Did "
        "Does Took Takes Tried Went Got Here There Now No Yes Okay Ok Please Thanks Thank Sorry "
        "Mom Dad Store Kroger Walmart Target Costco Amazon Ikea Home Depot Lowe's Coffee Clean "
        "Heater Muscle Brown's Scholl's Pepper Confirm Dismiss Escalate Request Follow Keep "
        "Watching Closed Chinese American Canadian Mexican WeChat WhatsApp QQ Line Signal Tel "
        "Mobile Cell Fax Email Mail Mailing Lives Living DOB SSN MRN ER ED ICU PICU EMS PT DX "
        "Pt Dx Hx Rx Tx Sx F/u Medical Center Clinic Elementary High Middle University College "
        "Giant Tikes Furniture Beach Collection Trampolines Classic"
    )
)

# ---- cues of the name model (``names.py``) -------------------------------------------------

# Words before a name that the role list does not hold: people described by what they are or
# did, and words that introduce one of several people ("其中", "之一", "之女").
MODEL_LEFT_WORDS_ZH = words(
    "学生 小学生 中学生 大学生 研究生 留学生 孕妇 产妇 老伴 工友 工人 员工 职工 村民 居民 市民 "
    "港澳居民 外籍患者 队友 群主 园长 校长 院长 收件人 寄件人 购买人 买家 死者 受害者 伤者 当事人 "
    "驾驶员 骑手 乘客 租户 房主 户主 老人 小朋友 男孩 女孩 学员 会员 顾客 客户 消费者 投诉人 "
    "举报人 申请人 代理人 负责人 经办人 之一 其中 之子 之女 之母 之父 之妻 之夫 之孙 本人 以及 "
    "及 或 与其 找到 联系到 叫 名叫 是"
)
# Words right after a name: speech, contact and what happened to the person.
MODEL_RIGHT_STRONG_ZH = words(
    " ".join(VERBS_AFTER_NAME)
    + " 接听 接电话 死亡 身亡 去世 受伤 烫伤 摔伤 烧伤 割伤 一例 两例 之子 之女 之母 之父 之妻 之夫 "
    "本人 电话 手机 微信 邮箱 身份证 护照 证件 住址 家住 愿意 自行 同意 签收 签名 打来 夫妇 一家 等人 "
    "家属 告诉 发现 送 送医 陪 负责 联系 购买 买的 提供 表示 回忆 描述 解释 承认 否认 确认 补充 "
    "核实 拒绝 回电 回复 代答 转告 介绍 QQ qq 扣扣 邮件"
)
# Chinese brands whose first character is also a surname: never a person in the model.
BRANDS_ZH = words(
    "苏泊尔 九阳 美的 格力 小米 米家 长城 金龙鱼 公牛 海尔 雅迪 艾美特 先锋 华为 方太 老板电器 万家乐 "
    "欧普 雷士 松下 飞利浦 史密斯 爱玛 台铃 绿源 小天鹅 荣事达 奥克斯 志高 康佳 创维 海信 贝亲 好孩子 "
    "花王 帮宝适 全棉时代 乐高 安踏 特步 鸿星尔克 晨光 得力 齐心 戴森 飞鹤 伊利 蒙牛 君乐宝 雀巢 旺旺 "
    "徐福记 良品铺子 百草味 洽洽 卫龙 农夫山泉 怡宝 康师傅 娃哈哈 加多宝 龙头 童星 宝宝树 孩子王 "
    "席梦思 顾家 林氏木业 全友 曲美 左右沙发 居然之家 红星美凯龙 宜家 沃尔玛 屈臣氏 万达 苏宁 国美 "
    "京东 拼多多 淘宝 天猫 闲鱼 快手 抖音 滴滴 哈啰 美团 饿了么 金山 金龙 金牛 宝马 奔驰 丰田 本田 "
    "长安 吉利 比亚迪 五菱 江淮 东风 解放 福田 雷克萨斯 路虎 小牛 九号 凤凰 永久 飞鸽 喜德盛 捷安特 "
    "狼爪 骆驼 李宁 安德玛 罗莱 水星家纺 富安娜 梦洁 博洋 恒源祥 南极人 俞兆林 红豆 海澜之家 雅戈尔 "
    "鄂尔多斯 童泰 巴拉巴拉 安奈儿 戴维贝拉 麦当劳 肯德基 华莱士 德克士 蜜雪冰城 喜茶 奈雪 瑞幸 星巴克"
)
# Words that end a name candidate only when it is not a name: nationality, place, brand and
# model suffixes.
NOT_NAME_FINAL = "籍省市区县镇乡村路街巷号栋楼室牌型款店厂司院科部局"
# Capitalised words of the first-name lists that stand for places, brands, products or
# seasons far more often than for a person when they stand alone.
EN_NOT_BARE = frozenset(
    words(
        "Jordan Austin Dallas Houston Phoenix Brooklyn Chelsea Florence Victoria Orlando Aurora "
        "Sydney Paris London Lincoln Washington Jackson Madison Denver Tyler Charlotte Savannah "
        "Georgia Carolina Virginia Dakota Indiana Montana Nevada Cheyenne Laramie Eugene Helena "
        "Augusta Camden Salem Troy Columbus Raleigh Mercedes Tesla Dyson Ford Chevy Nike Adidas "
        "Lego Barbie Elmo Alexa Siri Cortana Peloton Ninja Shark Graco Chicco Britax Evenflo "
        "Fisher Philips Braun Oster Vitamix Cuisinart Keurig Kenmore Maytag Whirlpool Samsung "
        "Apple Sony Dell Hoover Dewalt Ryobi Makita Milwaukee Stihl Husqvarna Honda Toyota Kia "
        "Hyundai Segway Razor Gotrax Lime Bird Uber Lyft Christmas Easter Halloween Santa God "
        "Jesus Allah Mary's Summer Autumn Winter Spring Sunday Monday Crystal Amber Ruby Jade "
        "Pearl Ginger Candy Honey Brandy Sherry Champagne Diamond Sterling Royal Regal Prince "
        "Duke Earl Baron King Queen Angel Angels Jewel Star Sky Ocean River Forest Storm Rain "
        "Irish Scottish Welsh English French German Spanish Italian Dutch Swiss Russian Polish "
        "Turkish Greek Arabic Korean Japanese Chinese Indian Thai Vietnamese Filipino Brazil "
        "China Japan Korea India Canada Mexico Texas Florida Ohio Iowa Utah Kansas Alabama Maine "
        "Hong Kong Macau Taiwan Beijing Shanghai Guangzhou Shenzhen Dayton Boston Chicago Miami "
        "Memphis Nashville Atlanta Portland Seattle Reno Vegas Tucson Omaha Tulsa Wichita Ames "
        "Model Lot Unit Room Suite Page Case Item Serial Batch Code Type Size Max Mini Pro Plus "
        "Ultra Lite Air Neo Nova Alpha Beta Delta Sigma Omega Echo Kindle Nest Ring Roku Xbox"
    )
)
