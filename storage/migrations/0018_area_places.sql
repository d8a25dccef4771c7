-- Places people type for where they live (街道, towns, well-known areas) and the district they
-- belong to, so "橘子洲街道" or "梅溪湖" resolves to 岳麓区 and area matching can use it
-- (bot.domain.areas). Seeded for the default city, 长沙市; a deployment elsewhere replaces the
-- rows together with the districts. Names are stored without their 街道 / 镇 suffix as well as
-- with it, so both forms match exactly.
CREATE TABLE area_places (
    name TEXT NOT NULL PRIMARY KEY,
    area_code TEXT NOT NULL REFERENCES areas (code)
);

INSERT INTO area_places (name, area_code) VALUES
    ('橘子洲街道', 'yuelu'), ('岳麓街道', 'yuelu'), ('望月湖街道', 'yuelu'),
    ('银盆岭街道', 'yuelu'), ('观沙岭街道', 'yuelu'), ('望城坡街道', 'yuelu'),
    ('西湖街道', 'yuelu'), ('咸嘉湖街道', 'yuelu'), ('梅溪湖街道', 'yuelu'),
    ('麓谷街道', 'yuelu'), ('坪塘街道', 'yuelu'), ('含浦街道', 'yuelu'),
    ('天顶街道', 'yuelu'), ('洋湖街道', 'yuelu'), ('学士街道', 'yuelu'),
    ('莲花镇', 'yuelu'), ('雨敞坪镇', 'yuelu'), ('岳麓山', 'yuelu'), ('大学城', 'yuelu'),
    ('文艺路街道', 'furong'), ('朝阳街道', 'furong'), ('韭菜园街道', 'furong'),
    ('五里牌街道', 'furong'), ('火星街道', 'furong'), ('马王堆街道', 'furong'),
    ('东屯渡街道', 'furong'), ('湘湖街道', 'furong'), ('定王台街道', 'furong'),
    ('荷花园街道', 'furong'), ('东岸街道', 'furong'), ('东湖街道', 'furong'),
    ('马坡岭街道', 'furong'), ('五一广场', 'furong'),
    ('坡子街街道', 'tianxin'), ('城南路街道', 'tianxin'), ('裕南街街道', 'tianxin'),
    ('金盆岭街道', 'tianxin'), ('新开铺街道', 'tianxin'), ('青园街道', 'tianxin'),
    ('桂花坪街道', 'tianxin'), ('赤岭路街道', 'tianxin'), ('先锋街道', 'tianxin'),
    ('黑石铺街道', 'tianxin'), ('大托铺街道', 'tianxin'), ('暮云街道', 'tianxin'),
    ('南托街道', 'tianxin'), ('文源街道', 'tianxin'), ('天心阁', 'tianxin'),
    ('新河街道', 'kaifu'), ('通泰街街道', 'kaifu'), ('清水塘街道', 'kaifu'),
    ('望麓园街道', 'kaifu'), ('湘雅路街道', 'kaifu'), ('东风路街道', 'kaifu'),
    ('伍家岭街道', 'kaifu'), ('四方坪街道', 'kaifu'), ('芙蓉北路街道', 'kaifu'),
    ('月湖街道', 'kaifu'), ('洪山街道', 'kaifu'), ('秀峰街道', 'kaifu'),
    ('浏阳河街道', 'kaifu'), ('捞刀河街道', 'kaifu'), ('青竹湖街道', 'kaifu'),
    ('沙坪街道', 'kaifu'), ('烈士公园', 'kaifu'),
    ('侯家塘街道', 'yuhua'), ('左家塘街道', 'yuhua'), ('雨花亭街道', 'yuhua'),
    ('高桥街道', 'yuhua'), ('东山街道', 'yuhua'), ('砂子塘街道', 'yuhua'),
    ('洞井街道', 'yuhua'), ('黎托街道', 'yuhua'), ('井湾子街道', 'yuhua'),
    ('圭塘街道', 'yuhua'), ('桂花街道', 'yuhua'), ('东塘街道', 'yuhua'),
    ('同升街道', 'yuhua'), ('跳马镇', 'yuhua'),
    ('高塘岭街道', 'wangcheng'), ('喻家坡街道', 'wangcheng'), ('白沙洲街道', 'wangcheng'),
    ('大泽湖街道', 'wangcheng'), ('月亮岛街道', 'wangcheng'), ('金山桥街道', 'wangcheng'),
    ('丁字湾街道', 'wangcheng'), ('黄金园街道', 'wangcheng'), ('乌山街道', 'wangcheng'),
    ('铜官街道', 'wangcheng'), ('茶亭镇', 'wangcheng'), ('靖港镇', 'wangcheng'),
    ('乔口镇', 'wangcheng'), ('白箬铺镇', 'wangcheng'),
    ('星沙街道', 'changsha_county'), ('湘龙街道', 'changsha_county'),
    ('泉塘街道', 'changsha_county'), ('榔梨街道', 'changsha_county'),
    ('黄兴镇', 'changsha_county'), ('黄花镇', 'changsha_county'),
    ('淮川街道', 'liuyang'), ('集里街道', 'liuyang'), ('荷花街道', 'liuyang'),
    ('关山街道', 'liuyang'), ('大围山镇', 'liuyang'),
    ('玉潭街道', 'ningxiang'), ('白马桥街道', 'ningxiang'), ('历经铺街道', 'ningxiang'),
    ('花明楼镇', 'ningxiang'), ('灰汤镇', 'ningxiang');
